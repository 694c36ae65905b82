"""Personvern: course and event administration in which the privacy statement is executable."""

__version__ = "0.1.0"
