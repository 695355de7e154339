"""The template environment of briefs, reports and call lists, and HTML/PDF output.

Templates run in Jinja's sandbox with autoescaping on and ``StrictUndefined``, so a
misspelt name fails a test instead of printing blank, and a ruleset author's
template cannot reach Python internals nor take the machine (the limits on work of
:mod:`tierkit.render.sandbox`); a printed PDF fetches nothing but files of the template
folders (:mod:`tierkit.render.pdf`).  They are looked up in this order, each read only
from inside its folder:

1. ``templates/`` next to the ruleset file (a client's own layout);
2. the folders plugins return from ``tierkit_template_dirs`` (the built-in ``briefs``
   plugin returns tierkit's own, last);
3. tierkit's own templates, always, so a page renders with every plugin blocked.

``default:NAME`` always names tierkit's own template, so an override can extend the
template it replaces: ``{% extends "default:brief_page.html" %}`` and redefine one of
its blocks (``header``, ``chips``, ``why``, ``allocation``, ``follow_up``, ``playbook``,
``facts``, ``footer``).  The pages are ``brief.html`` (a booklet, including
``brief_page.html`` per account and ``kinds/<kind>.html`` per scheme), ``report.html``
and ``calllist.html``, all extending ``base.html`` with its print CSS (``print.css``).

Besides the context (see :mod:`tierkit.render.brief`, :mod:`tierkit.render.report`,
:mod:`tierkit.render.calllist`), every template sees ``t('key')`` (the static words, in the
run's language), the filters ``num``, ``pct``, ``day``, ``show`` (values as a page shows
them), the chart functions ``hbars`` (of ``Bar``), ``pareto_curve`` and ``scatter`` (inline SVG), and
every registered expression function as a filter and a global, called as expressions
call it: a missing argument gives a missing result, and date functions get the run's
as-of date.  Where a function's name is one of the helpers above, the helper wins.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import traceback
from collections.abc import Callable, Iterable, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader, StrictUndefined, TemplateError
from jinja2.loaders import split_template_path

from tierkit.render import charts

from tierkit.render import format as render_format
from tierkit.errors import TierkitError
from tierkit.render.fonts import require_chinese_font
from tierkit.registry import Function, plugin_folders
from tierkit.render.messages import translate
from tierkit.render.sandbox import LimitedSandbox, WorkLimit

PDF_HINT = "pip install 'tierkit[pdf]'"


def package_templates() -> Path:
    """tierkit's own template folder (package data of ``tierkit.templates``)."""
    return Path(str(files("tierkit.templates")))


def template_dirs(pm, ruleset_source: Path | None) -> list[Path]:
    """Where templates are looked for, first match winning (see the module docstring)."""
    found: list[Path] = []
    if ruleset_source is not None:
        local = Path(ruleset_source).parent / "templates"
        if local.is_dir():
            found.append(local)
    if pm is not None:
        found += plugin_folders(pm, "tierkit_template_dirs")
    found.append(package_templates())
    return list(dict.fromkeys(found))


def template_function(function: Function, as_of: dt.date) -> Callable[..., Any]:
    """A registered function as templates call it: with the semantics of expressions."""
    impl, null_safe, needs_as_of = function.impl, function.null_safe, function.needs_as_of

    def call(*args):
        if null_safe:
            if args and all(arg is None for arg in args):
                return None
        elif any(arg is None for arg in args):
            return None
        return impl(as_of, *args) if needs_as_of else impl(*args)

    call.__name__ = function.name
    return call


class FolderLoader(FileSystemLoader):
    """Jinja's loader of one folder, reading nothing outside it: a template that is a
    symbolic link out of the folder (a ruleset's repository can hold one pointing at
    ``/etc/passwd``) is an error, not a page showing that file."""

    def get_source(self, environment, template: str):
        folder = os.path.realpath(self.searchpath[0])
        path = posixpath.join(self.searchpath[0], *split_template_path(template))
        if os.path.isfile(path) and not os.path.realpath(path).startswith(folder + os.sep):
            raise TierkitError(f"template {template}: {path} leads out of its template folder; tierkit reads no other file")
        return super().get_source(environment, template)


def make_environment(
    dirs: Iterable[Path],
    functions: Mapping[str, Function],
    lang: str,
    as_of: dt.date,
) -> LimitedSandbox:
    """The sandboxed environment for one language and as-of date (see :mod:`tierkit.render.sandbox`)."""
    loader = ChoiceLoader(
        [FolderLoader(str(d)) for d in dirs]
        + [PrefixLoader({"default": FolderLoader(str(package_templates()))}, delimiter=":")]
    )
    env = LimitedSandbox(
        loader=loader,
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda value: render_format.MISSING if value is None else value,
    )
    for name, function in functions.items():
        wrapped = template_function(function, as_of)
        env.filters[name] = wrapped
        env.globals[name] = wrapped

    def t(key: str, **values) -> str:
        return translate(lang, key, **values)

    helpers = {
        "num": render_format.num,
        "pct": render_format.pct,
        "day": lambda value: render_format.day(value, lang),
        "show": lambda value, unit=None: render_format.show(value, lang, unit),
    }
    env.filters.update(helpers)
    env.globals.update(helpers)
    env.globals.update(t=t, lang=lang, as_of=as_of, hbars=charts.hbars, Bar=charts.Bar,
                       pareto_curve=charts.pareto_curve, scatter=charts.scatter)
    env.bound_filters()
    return env


class Renderer:
    """Renders named templates for one run: its plugins, ruleset, language and date."""

    def __init__(self, pm, functions: Mapping[str, Function], ruleset_source: Path | None, lang: str, as_of: dt.date):
        self.dirs = template_dirs(pm, ruleset_source)
        self.env = make_environment(self.dirs, functions, lang, as_of)

    def render(self, name: str, context: Mapping[str, Any], accounts: int = 1) -> str:
        """Render template ``name``; the ``accounts`` it shows size its budget of work.

        Whatever a template does wrong (a syntax error, a missing name, a limit crossed,
        a division by zero, a recursion without end) is one :class:`TierkitError` naming
        the template and, where known, the template file and line."""
        self.env.budget(accounts)
        try:
            return self.env.get_template(name).render(context)
        except TemplateError as error:
            where = f"{error.filename}:{error.lineno}: " if getattr(error, "lineno", None) and getattr(error, "filename", None) else ""
            raise TierkitError(f"template {name}: {where}{error.message or error}") from error
        except (WorkLimit, RecursionError, ArithmeticError, LookupError, TypeError, ValueError, MemoryError) as error:
            raise TierkitError(f"template {name}: {self._line_of(error)}{_describe(error)}") from None

    def _line_of(self, error: BaseException) -> str:
        """``file:line: `` of the innermost template frame the error went through."""
        folders = tuple(str(folder) for folder in self.dirs)
        inside = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename.startswith(folders)]
        return f"{inside[-1].filename}:{inside[-1].lineno}: " if inside else ""

    def write(self, name: str, context: Mapping[str, Any], path: Path, accounts: int = 1) -> None:
        """Render ``name`` into ``path`` (.html, or .pdf using files of these template folders only)."""
        write_document(self.render(name, context, accounts), path, self.dirs)


def _describe(error: BaseException) -> str:
    if isinstance(error, WorkLimit):
        return str(error)
    if isinstance(error, RecursionError):
        return "macros or includes call themselves without end"
    return f"{type(error).__name__}: {error}"


def write_pdf(html: str, path: Path, folders: Iterable[Path] = (), shown: Path | None = None) -> list[list[str]]:
    """Print HTML to PDF with WeasyPrint (the optional ``pdf`` extra), fetching nothing
    but files of ``folders`` and tierkit's own templates (see :mod:`tierkit.render.pdf`).
    Errors name ``shown`` (the file the user asked for) when ``path`` is a part of it.
    Returns the anchors on each printed page."""
    require_chinese_font(html)  # before WeasyPrint warns of the missing fonts its own way
    try:
        import weasyprint  # noqa: F401  (asked every time: a missing extra is one line)

        from tierkit.render.pdf import print_pdf  # builds on WeasyPrint's URLFetcher (68 or later)
    except ImportError:
        raise TierkitError("PDF output needs WeasyPrint, which is not installed", hint=PDF_HINT) from None
    except OSError as error:  # WeasyPrint is there but Pango is not
        raise TierkitError(f"PDF output needs WeasyPrint's system libraries (Pango): {error}", hint=PDF_HINT) from None
    return print_pdf(html, path, [*folders, package_templates()], base_url=package_templates(), shown=shown)


def write_document(html: str, path: Path, folders: Iterable[Path] = ()) -> None:
    """Write a rendered page as ``.html`` or, for ``.pdf``, print it; the PDF may use
    files of the template ``folders`` (a :class:`Renderer`'s ``dirs``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".pdf":
        write_pdf(html, path, folders)
    else:
        path.write_text(html, encoding="utf-8")
