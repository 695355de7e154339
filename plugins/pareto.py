"""The `pareto` scheme kind (being written)."""
