"""The printing commands: ``tierkit brief``, ``tierkit report`` and ``tierkit calllist``.

Each evaluates like ``tierkit evaluate`` (through :func:`tierkit.job.run_job`), builds
its template context (:mod:`tierkit.render_brief`, :mod:`tierkit.render_report`,
:mod:`tierkit.calllist`) and renders it with the sandboxed templates of
:mod:`tierkit.render`.  ``tierkit.cli`` registers them; this module does not import
the CLI module at import time, so either can be imported first.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from .calllist import build_calllist, rows_of_owner, terminal_table, write_csv
from .engine import compile_ruleset
from .errors import TierkitError
from .job import Job, run_job
from .options import AS_OF, LANG, STORE, inputs
from .render import Renderer, write_document
from .render_brief import BriefBook, BriefBuilder
from .render_report import ReportBuilder

DOCUMENT_SUFFIXES = (".html", ".htm", ".pdf")
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\s]+')


def _common(command):
    """RULESET [INPUT] --orders F --as-of DATE --lang en|zh --store PATH, as ``tierkit evaluate`` takes them."""
    return click.argument("ruleset")(inputs(AS_OF(LANG(STORE(command)))))


def _evaluate(session, ruleset: str, input_path, orders_path, as_of, store: str | None) -> Job:
    plan = compile_ruleset(session.ruleset(ruleset), session.registry)
    return run_job(plan, session.registry, input_path, orders_path, as_of, store=store)


def _language(job: Job, lang: str | None) -> str:
    return lang or job.evaluation.plan.ruleset.data.get("locale", "en")


def _renderer(session, job: Job, lang: str) -> Renderer:
    evaluation = job.evaluation
    return Renderer(session.pm, session.registry.functions, evaluation.plan.ruleset.source, lang, evaluation.bound.as_of)


def _rejected_note(job: Job) -> str:
    count = len(job.rejected)
    return f"; {count:,} rows rejected (tierkit evaluate --rejected FILE lists them)" if count else ""


@click.command()
@_common
@click.option("--customer", "customers", multiple=True, metavar="ID", help="An account by id (repeatable).")
@click.option("--owner", metavar="NAME", help="Every account of this owner (sales rep), best ranked first.")
@click.option("--all", "everyone", is_flag=True, help="Every account, best ranked first.")
@click.option("-o", "--output", required=True,
              help="OUT.html or OUT.pdf: one booklet, a page per account; DIR/: one file per account.")
@click.option("--format", "file_format", type=click.Choice(["html", "pdf"]), default="html", show_default=True,
              help="File type of the per-account files written under -o DIR/.")
@click.pass_obj
def brief(session, ruleset, input_path, orders_path, as_of, lang, store, customers, owner, everyone, output, file_format) -> None:
    """One A4 page per account: grade, reasons, allocation, playbook and key facts."""
    chosen = [name for name, given in (("--customer", customers), ("--owner", owner), ("--all", everyone)) if given]
    if not chosen:
        raise TierkitError("choose the accounts: --customer ID (repeatable), --owner NAME or --all")
    if len(chosen) > 1:
        raise TierkitError(f"give one of --customer, --owner and --all, not {' and '.join(chosen)}")
    directory = _is_directory(output)
    job = _evaluate(session, ruleset, input_path, orders_path, as_of, store)
    evaluation = job.evaluation
    if customers:
        rows = _customers(evaluation, customers)
    elif owner:
        rows = rows_of_owner(evaluation, owner)
    else:
        rows = evaluation.ranked()
    lang = _language(job, lang)
    renderer = _renderer(session, job, lang)
    builder = BriefBuilder(evaluation, lang, session.pm)
    if directory:
        folder = Path(output)
        for row in rows:
            book = builder.book([row])
            page = book.pages[0]
            write_document(renderer.render("brief.html", book.variables()), folder / f"{_file_name(page.id)}.{file_format}")
        where = f"{folder}/ (.{file_format})"
    else:
        book: BriefBook = builder.book(rows)
        write_document(renderer.render("brief.html", book.variables()), Path(output))
        where = output
    click.echo(f"wrote {len(rows):,} brief{'s' if len(rows) != 1 else ''} to {where}{_rejected_note(job)}", err=True)


def _is_directory(output: str) -> bool:
    """``-o DIR/`` (or an existing folder, or a name without a suffix) is a directory."""
    path = Path(output)
    if output.endswith(("/", "\\")) or path.is_dir() or not path.suffix:
        return True
    if path.suffix.lower() in DOCUMENT_SUFFIXES:
        return False
    raise TierkitError(f"-o {output}: write a .html or .pdf file, or a directory (end it with /)")


def _customers(evaluation, ids: tuple[str, ...]) -> list[list]:
    rows, unknown = [], []
    for customer in ids:
        row = evaluation.find(customer)
        if row is None:
            unknown.append(customer)
        elif not any(row is seen for seen in rows):
            rows.append(row)
    if unknown:
        rejected = next((r for r in evaluation.rejected if unknown[0] in r.reason), None)
        names = ", ".join(repr(customer) for customer in unknown)
        raise TierkitError(f"customer {names} {'is' if len(unknown) == 1 else 'are'} not among the evaluated customers"
                           + (f"; {rejected}" if rejected else ""))
    return rows


def _file_name(customer_id: str) -> str:
    return _UNSAFE_IN_NAME.sub("_", customer_id).strip("._") or "customer"


@click.command()
@_common
@click.option("-o", "--output", required=True, help="report.html or report.pdf.")
@click.option("--by", metavar="SCHEME", help="Classification scheme of the cross table (default: the first scheme that is not the grade).")
@click.option("--grade", metavar="SCHEME", help="Grading scheme (default: the scheme the ranking reads, else the allocation).")
@click.option("--value", metavar="EXPR", help="Field or expression for the Pareto curve "
              "(default: revenue, else the first money field named like revenue, else the first money field).")
@click.pass_obj
def report(session, ruleset, input_path, orders_path, as_of, lang, store, output, by, grade, value) -> None:
    """The portfolio: grade distribution, class × grade, Pareto curve, matrices, workload, watch lists."""
    if Path(output).suffix.lower() not in DOCUMENT_SUFFIXES:
        raise TierkitError(f"-o {output}: the report is a .html or .pdf file")
    job = _evaluate(session, ruleset, input_path, orders_path, as_of, store)
    lang = _language(job, lang)
    renderer = _renderer(session, job, lang)
    built = ReportBuilder(job.evaluation, session.registry, renderer.env, lang).report(job.table.read, by, grade, value)
    write_document(renderer.render("report.html", built.variables()), Path(output))
    click.echo(f"wrote the report of {built.evaluated:,} customers to {output}{_rejected_note(job)}", err=True)


@click.command()
@_common
@click.option("--owner", required=True, metavar="NAME", help="The sales rep whose accounts to list.")
@click.option("-o", "--output", help="F.html or F.csv (default: a table on the terminal).")
@click.pass_obj
def calllist(session, ruleset, input_path, orders_path, as_of, lang, store, owner, output) -> None:
    """A rep's accounts for today, in Eisenhower order, with overdue and return-to-pool flags.

    Emergencies (an at_risk tag; calllist.emergency_tags) come first, then important and
    urgent, important, urgent, neither.  Urgent: the days since the last contact reached
    the plan's cadence_days (or no contact date is known).  Important: the plan's
    important: true, else the top grade or a rank in the top 20% (calllist.top_share).
    Overdue: past the cadence; return to the shared pool (公海): past the plan's
    pool_return_days, default twice the cadence.
    """
    suffix = Path(output).suffix.lower() if output else ""
    if output and suffix not in (".html", ".htm", ".csv"):
        raise TierkitError(f"-o {output}: the call list is a .html or .csv file (or, without -o, a table here)")
    job = _evaluate(session, ruleset, input_path, orders_path, as_of, store)
    lang = _language(job, lang)
    built = build_calllist(job.evaluation, owner, lang)
    if not output:
        click.echo(terminal_table(built))
        return
    path = Path(output)
    if suffix == ".csv":
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(built, path)
    else:
        write_document(_renderer(session, job, lang).render("calllist.html", built.variables()), path)
    click.echo(f"wrote {len(built.items):,} accounts of {owner} to {output}{_rejected_note(job)}", err=True)
