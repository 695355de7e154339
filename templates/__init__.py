"""Brief, report and call-list templates (package data)."""
