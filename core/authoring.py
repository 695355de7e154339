"""Commands of the consultant's workflow (being written)."""
