"""Loaner units out on customer sites for at most 15 days (R10–R13)."""
