"""Inquiries."""
