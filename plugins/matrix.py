"""The `matrix` scheme kind (being written)."""
