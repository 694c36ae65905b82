"""Realistic, reproducible demo data and the one-command demo server."""
