"""Printable pages: tierkit's own templates, and each brief's follow-up status.

A plugin like any other: it hands tierkit its template folder through
``tierkit_template_dirs`` (last, so that other plugins' templates win) and adds
``follow_up`` to every brief's context through ``tierkit_brief_context``: the last
contact, the next visit's due date, and the overdue and return-to-pool flags, computed
as ``tierkit calllist`` computes them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from tierkit.render.calllist import contact_source, follow_up
from tierkit.hookspecs import hookimpl


@hookimpl(trylast=True)
def tierkit_template_dirs():
    return [Path(str(files("tierkit.templates")))]


@hookimpl
def tierkit_brief_context(customer, record, plan, as_of):
    return {"follow_up": follow_up(customer, record["allocation"], contact_source(plan), as_of)}
