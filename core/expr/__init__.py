"""The ruleset's expression language: parsed and checked once, compiled, said in words, and compared (which rules can never fire)."""
