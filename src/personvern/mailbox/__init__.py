"""E-mail correspondence: deleted after about a year unless there is a ground to keep it (R19)."""
