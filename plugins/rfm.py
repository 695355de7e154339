"""The `rfm` scheme kind (being written)."""
