"""The hooks tierkit calls, one documented function each.

Every hook is called by keyword, and an implementation may accept only the arguments
it needs, so specs can grow without breaking plugins.  Registration hooks receive a
``register`` callback owned by the core: the core checks each registered object and
fails when two plugins claim the same name.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("tierkit")
hookimpl = pluggy.HookimplMarker("tierkit")


@hookspec
def tierkit_scheme_kinds(register):
    """Register scheme kinds.

    :param register: call ``register(kind)`` with a :class:`tierkit.registry.SchemeKind`
        for each kind the plugin provides.  A kind owns its config JSON Schema (merged
        into ``tierkit schema``) and its compile step.
    :returns: nothing; results are ignored.

    Added in 0.1.
    """


@hookspec
def tierkit_functions(register):
    """Register functions usable in ruleset expressions and in templates.

    :param register: call ``register(function)`` with a :class:`tierkit.registry.Function`.
        The same function is a filter (``x | name(arg)``) and a call (``name(x, arg)``)
        in expressions, and a Jinja filter and global in templates.
    :returns: nothing; results are ignored.

    Added in 0.1.
    """


@hookspec
def tierkit_readers(register):
    """Register input readers, chosen by file extension.

    :param register: call ``register(reader)`` with a :class:`tierkit.registry.Reader`.
    :returns: nothing; results are ignored.

    Added in 0.1.
    """


@hookspec
def tierkit_sources(register):
    """Register database sources, chosen by URL scheme (``postgresql://…``).

    A source reads the rows of a table or of a query (``--table`` / ``--query``); the
    rows then go through the same column matching, coercion and rejection as a file's.

    :param register: call ``register(source)`` with a :class:`tierkit.registry.Source`.
        Two plugins claiming one scheme or extension is an error naming both.
    :returns: nothing; results are ignored.

    Added in 0.1.
    """


@hookspec
def tierkit_writers(register):
    """Register result writers, chosen by file extension, or by URL scheme for a
    destination such as a database table or a CRM's REST API (``-o 'sqlite:///g.db?table=grades'``).

    :param register: call ``register(writer)`` with a :class:`tierkit.registry.Writer`;
        one with ``schemes`` is called with the URL and the ``--write-mode``.  Two
        plugins claiming one extension or scheme is an error naming both.
    :returns: nothing; results are ignored.

    Added in 0.1.
    """


@hookspec
def tierkit_ruleset_dirs():
    """Folders holding rulesets that can be named instead of given as a path.

    :returns: a list of :class:`pathlib.Path` (or ``None``); ``tierkit evaluate NAME``
        looks for ``NAME.yaml`` in each, in plugin order.

    Added in 0.1.
    """


@hookspec
def tierkit_template_dirs():
    """Folders of templates for briefs, the portfolio report and call lists.

    Searched after the ``templates/`` folder next to the ruleset file and before
    tierkit's own templates, in hook call order (the built-in ``briefs`` plugin, which
    returns tierkit's own folder, runs last).  A folder may hold whole pages
    (``brief.html``, ``report.html``, ``calllist.html``), partials (``brief_page.html``)
    or the section of a scheme kind (``kinds/<kind>.html``).  An override reaches the
    template it replaces with the ``default:`` prefix:
    ``{% extends "default:brief_page.html" %}``.  Templates run sandboxed, with
    autoescaping and ``StrictUndefined``.

    :returns: a list of :class:`pathlib.Path` (or ``None``).

    Added in 0.1.
    """


@hookspec
def tierkit_brief_context(customer, record, plan, lang, as_of):
    """Extra template context for one account's brief.

    :param customer: the account's features: field and derived-feature name -> value.
    :param record: the account's result record as ``tierkit evaluate`` writes it
        (``id``, ``features``, ``outcomes`` with labels and reasons, ``rank``,
        ``allocation``), localized to ``lang``.
    :param plan: the compiled :class:`tierkit.plan.compiler.Plan` (fields, schemes, ruleset).
    :param lang: the brief's language, ``en`` or ``zh``.
    :param as_of: the run's as-of date (:class:`datetime.date`).
    :returns: a dict (or ``None``); each key is readable in the page's templates as
        ``page.<key>``.  A key may not repeat a built-in page attribute or a key of
        another plugin: both are errors naming the plugin.

    Added in 0.1.
    """
