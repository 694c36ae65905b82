"""Fixtures of the retention tests."""
