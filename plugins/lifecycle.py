"""The `lifecycle` scheme kind (being written)."""
