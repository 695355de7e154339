"""The `portfolio` scheme kind (being written)."""
