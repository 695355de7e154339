"""Printable briefs, reports and call lists (being written)."""
