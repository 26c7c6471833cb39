"""Repair RMAs from authorization to shipping back (R14–R17)."""
