"""tierkit: classify first, then grade, then allocate differently.

The core loads declarative YAML rulesets and pluggy plugins, compiles each ruleset
once into a plan of generated Python, and runs customers through it.  It names no
scheme kind: every kind, the built-in ones included, arrives through the hooks in
:mod:`tierkit.hookspecs`.

The public Python API is what ``__all__`` lists (see ``docs/api.md``); everything
else is private.  Its names are imported on first use, so that ``import tierkit``
(and every command) stays as light as the command line needs.
"""

__version__ = "0.1.0"
__all__ = ["CompiledRuleset", "Rejected", "Result", "TierkitError", "__version__", "load"]

_PUBLIC = {"CompiledRuleset": "api", "Result": "api", "load": "api", "Rejected": "io.tables", "TierkitError": "errors"}


def __getattr__(name: str):
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
