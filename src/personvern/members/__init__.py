"""Member feeds of the member organisations (Advokatforeningen, Juristforbundet)."""
