"""Rulesets as written: YAML with every value's position, merged, checked against the composed JSON Schema, with their labels, population cuts and overrides."""
