"""Bundled rulesets, one per client industry (package data)."""
