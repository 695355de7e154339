"""The `value_proposition` scheme kind (being written)."""
