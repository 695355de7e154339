"""The `industry` scheme kind (being written)."""
