"""tierkit: classify first, then grade, then allocate differently.

The core loads declarative YAML rulesets and pluggy plugins, compiles each ruleset
once into a plan of generated Python, and runs customers through it.  It names no
scheme kind: every kind, the built-in ones included, arrives through the hooks in
:mod:`tierkit.hookspecs`.
"""

__version__ = "0.1.0"
