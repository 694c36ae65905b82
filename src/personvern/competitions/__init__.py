"""Competitions: entries kept until the competition ends (R23)."""
