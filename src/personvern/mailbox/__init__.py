"""Mailbox."""
