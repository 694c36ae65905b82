"""Inquiries through the site or to an account manager, kept while relevant (R15)."""
