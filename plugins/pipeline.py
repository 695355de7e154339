"""The `pipeline` scheme kind (being written)."""
