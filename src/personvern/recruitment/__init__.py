"""Recruitment."""
