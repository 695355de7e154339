"""Printed pages: briefs, booklets, the portfolio report and their charts, rendered from results in a sandboxed Jinja environment, to HTML or PDF."""
