"""The printing commands: ``tierkit brief``, ``tierkit report`` and ``tierkit calllist``.

Each evaluates like ``tierkit evaluate`` (through :func:`tierkit.engine.job.run_job`), or reads
the results file of an earlier run on any engine (``--results FILE``, through
:func:`tierkit.engine.results.read_evaluation`), builds its template context
(:mod:`tierkit.render.brief`, :mod:`tierkit.render.report`, :mod:`tierkit.render.calllist`)
and renders it with the sandboxed templates of :mod:`tierkit.render.environment`.  ``tierkit.cli``
registers them; this module does not import the CLI module at import time, so either
can be imported first.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import click
from click.core import ParameterSource

from tierkit.render.booklet import write_briefs
from tierkit.render.brief_cover import build_cover
from tierkit.render.calllist import build_calllist, earlier_run, read_contacts, rows_of_owner, terminal_table, write_csv
from tierkit.engine.evaluation import Evaluation, compile_ruleset
from tierkit.errors import TierkitError
from tierkit.io.outputs import refuse_overwriting
from tierkit.engine.job import run_job
from tierkit.cli.options import AS_OF, LANG, STORE, csv_raw, engine_options, inputs, parse_date
from tierkit.render.environment import Renderer
from tierkit.render.brief import BriefBuilder
from tierkit.render.report import ReportBuilder
from tierkit.engine.results import read_evaluation
from tierkit.cli.terminal import printable

DOCUMENT_SUFFIXES = (".html", ".htm", ".pdf")
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\s\x00-\x1f]+')
NAME_BYTES = 160  # of UTF-8: file systems allow 255, and the hash and suffix need room


RESULTS = click.option(
    "--results", "results_path", metavar="FILE",
    help="Print from a results file of tierkit evaluate (.jsonl, .csv or .parquet, any engine) instead of evaluating; "
         "no INPUT or --orders then.",
)


def _common(command):
    """RULESET [INPUT] --orders F --as-of DATE --lang en|zh --store PATH --engine E, as ``tierkit evaluate``
    takes them, or RULESET --results FILE."""
    return click.argument("ruleset")(inputs(RESULTS(AS_OF(LANG(STORE(engine_options(command)))))))


@dataclass
class Evaluated:
    """What a printing command prints from: an ``evaluation`` (run now, or read back from
    ``results``), the rows the run ``read``, the customer rows it ``rejected`` and every
    rejected row (``all_rejected``, order rows included), and its default language."""

    evaluation: Evaluation
    read: int
    rejected: int
    all_rejected: int
    default_lang: str
    results: str | None = None


def _evaluate(session, ruleset: str, input_path, orders_path, as_of, store: str | None, results: str | None,
              engine: str) -> Evaluated:
    """Evaluate now on ``engine``, or read the evaluation of a results file."""
    _check_sources(input_path, orders_path, store, results, engine)
    plan = compile_ruleset(session.ruleset(ruleset), session.registry)
    locale = plan.ruleset.data.get("locale", "en")
    if results is None:
        job = run_job(plan, session.registry, input_path, orders_path, as_of, store=store, engine=engine)
        from tierkit.cli import say_missing_reasons  # the CLI module imports this one

        say_missing_reasons(plan, engine)
        return Evaluated(job.evaluation, job.read, len(job.evaluation.rejected), len(job.rejected), locale)
    evaluation = read_evaluation(results, plan)
    if _given("as_of") and as_of != evaluation.bound.as_of:
        raise TierkitError(f"--results {results} holds results as of {evaluation.bound.as_of.isoformat()}, not "
                           f"{as_of.isoformat()}: evaluate again for another date")
    return Evaluated(evaluation, evaluation.read, evaluation.rejected_count, evaluation.all_rejected_count,
                  evaluation.recorded_lang or locale, results)


def _check_sources(input_path, orders_path, store, results, engine: str) -> None:
    """--results stands for INPUT and --orders (and the run store read while evaluating)."""
    if results is None:
        if not input_path and not orders_path:
            raise TierkitError("nothing to evaluate: give a customer file, --orders ORDERS, both, or --results FILE")
        return
    given = [name for name, value in (("INPUT", input_path), ("--orders", orders_path)) if value]
    if given:
        raise click.UsageError(f"give {' and '.join(given)} or --results FILE, not both: the results are already evaluated")
    if store:
        raise click.UsageError("--store is read when evaluating; --results FILE is already evaluated")
    if engine != "python":
        raise click.UsageError("--engine says where to evaluate; --results FILE is already evaluated")


def _given(parameter: str) -> bool:
    context = click.get_current_context(silent=True)
    return context is not None and context.get_parameter_source(parameter) not in (None, ParameterSource.DEFAULT)


def _language(source: Evaluated, lang: str | None) -> str:
    return lang or source.default_lang


def _renderer(session, source: Evaluated, lang: str) -> Renderer:
    evaluation = source.evaluation
    return Renderer(session.pm, session.registry.functions, evaluation.plan.ruleset.source, lang, evaluation.bound.as_of)


def _rejected_note(source: Evaluated) -> str:
    count = source.all_rejected
    if not count:
        return ""
    if source.results is not None:
        return f"; {count:,} rows were rejected by the run that made {source.results}"
    return f"; {count:,} rows rejected (tierkit evaluate --rejected FILE lists them)"


@click.command()
@_common
@click.option("--customer", "customers", multiple=True, metavar="ID", help="An account by id (repeatable).")
@click.option("--owner", metavar="NAME", help="Every account of this owner (sales rep), best ranked first, after a one-page summary (a booklet).")
@click.option("--all", "everyone", is_flag=True, help="Every account, best ranked first.")
@click.option("-o", "--output", required=True,
              help="OUT.html or OUT.pdf: one booklet, a page per account; DIR/: one file per account.")
@click.option("--format", "file_format", type=click.Choice(["html", "pdf"]), default="html", show_default=True,
              help="File type of the per-account files written under -o DIR/.")
@click.pass_obj
def brief(session, ruleset, input_path, orders_path, results_path, as_of, lang, store, engine, customers, owner, everyone, output,
          file_format) -> None:
    """One A4 page per account: grade, reasons, allocation, playbook and key facts."""
    chosen = [name for name, given in (("--customer", customers), ("--owner", owner), ("--all", everyone)) if given]
    if not chosen:
        raise TierkitError("choose the accounts: --customer ID (repeatable), --owner NAME or --all")
    if len(chosen) > 1:
        raise TierkitError(f"give one of --customer, --owner and --all, not {' and '.join(chosen)}")
    directory = _is_directory(output)
    refuse_overwriting({"-o": output}, [input_path, orders_path, results_path])
    source = _evaluate(session, ruleset, input_path, orders_path, as_of, store, results_path, engine)
    evaluation = source.evaluation
    if customers:
        rows = _customers(evaluation, customers)
    elif owner:
        rows = rows_of_owner(evaluation, owner)
    else:
        rows = evaluation.ranked()
    lang = _language(source, lang)
    renderer = _renderer(session, source, lang)
    builder = BriefBuilder(evaluation, lang, session.pm)
    if directory:
        folder = Path(output)
        names = file_names([str(row[evaluation.plan.id_index]) for row in rows])
        for row in rows:
            customer = str(row[evaluation.plan.id_index])
            write_briefs(builder, renderer, [row], folder / f"{names[customer]}.{file_format}")
        where = f"{folder}/ (.{file_format})"
    else:
        cover = build_cover(evaluation, session.registry, owner, rows, lang,
                            earlier_run(evaluation.plan, evaluation.bound.as_of, store)) if owner else None
        write_briefs(builder, renderer, rows, Path(output), cover)
        where = output
    click.echo(f"wrote {len(rows):,} brief{'s' if len(rows) != 1 else ''} to {where}{_rejected_note(source)}", err=True)


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


def file_names(ids: list[str]) -> dict[str, str]:
    """A file name (without suffix) per customer id, one file per id.

    Characters file systems refuse become ``_`` and names are cut to
    :data:`NAME_BYTES`; a name that was cut, or that another id's name equals
    (ignoring case, as Windows and macOS do), ends with a short hash of its id.
    """
    cleaned = {customer: _UNSAFE_IN_NAME.sub("_", customer).strip("._") or "customer" for customer in ids}
    clashes = Counter(name.casefold() for name in cleaned.values())
    names = {}
    for customer, name in cleaned.items():
        cut = name.encode("utf-8", "replace")[:NAME_BYTES].decode("utf-8", "ignore")
        if cut != name or clashes[name.casefold()] > 1:
            name = f"{cut}-{hashlib.sha256(customer.encode('utf-8', 'replace')).hexdigest()[:10]}"
        names[customer] = name
    return names


@click.command()
@_common
@click.option("-o", "--output", required=True, help="report.html or report.pdf.")
@click.option("--by", metavar="SCHEME", help="Classification scheme of the cross table (default: the first scheme that is not the grade).")
@click.option("--grade", metavar="SCHEME", help="Grading scheme (default: the scheme the ranking reads, else the allocation).")
@click.option("--value", metavar="EXPR", help="Field or expression for the Pareto curve "
              "(default: revenue, else the first money field named like revenue, else the first money field).")
@click.pass_obj
def report(session, ruleset, input_path, orders_path, results_path, as_of, lang, store, engine, output, by, grade, value) -> None:
    """The portfolio: grade distribution, class × grade, Pareto curve, matrices, workload, watch lists."""
    if Path(output).suffix.lower() not in DOCUMENT_SUFFIXES:
        raise TierkitError(f"-o {output}: the report is a .html or .pdf file")
    refuse_overwriting({"-o": output}, [input_path, orders_path, results_path])
    source = _evaluate(session, ruleset, input_path, orders_path, as_of, store, results_path, engine)
    lang = _language(source, lang)
    renderer = _renderer(session, source, lang)
    built = ReportBuilder(source.evaluation, session.registry, renderer.env, lang).report(source.read, by, grade, value,
                                                                                       rejected=source.rejected)
    renderer.write("report.html", built.variables(), Path(output), accounts=built.evaluated)
    click.echo(f"wrote the report of {built.evaluated:,} customers to {output}{_rejected_note(source)}", err=True)


@click.command()
@_common
@click.option("--owner", required=True, metavar="NAME", help="The sales rep whose accounts to list.")
@click.option("--date", "day", callback=parse_date, metavar="DATE",
              help="The day of the list, YYYY-MM-DD (default: the as-of date).")
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="At most N accounts (default: calllist.per_day of the ruleset, else all).")
@click.option("--contacts", metavar="FILE",
              help="The CRM's activity export (CSV: account id, date, outcome): logged contacts reset each account's cadence.")
@click.option("--previous", metavar="RUN",
              help="The saved run whose tags count as before: an id, latest or previous (default: the latest run of the "
                   "ruleset as of an earlier date, when the run store exists).")
@click.option("-o", "--output", help="F.html or F.csv (default: a table on the terminal).")
@csv_raw(command_level=True)
@click.pass_obj
def calllist(session, ruleset, input_path, orders_path, results_path, as_of, lang, store, engine, owner, day, limit, contacts,
             previous, output) -> None:
    """A rep's day of work: the accounts to contact, in Eisenhower order, each with why today.

    Emergencies (an at_risk tag; calllist.emergency_tags) come first: a tag the account
    did not carry in the run before (see --previous) calls for a rescue visit by the
    executive sponsor, one it carried for keeping up the rescue plan.  Then important and
    urgent, important, urgent, neither; inside one, by grade, then days overdue.  Urgent:
    the days since the last contact (the data's, or a later one in --contacts) reached
    the plan's cadence_days (or no contact date is known).  Important: the plan's
    important: true, else the top grade or a rank in the top 20% (calllist.top_share).
    Overdue: past the cadence; return to the shared pool (公海): past the plan's
    pool_return_days, default twice the cadence.  A day holds calllist.per_day accounts.
    """
    suffix = Path(output).suffix.lower() if output else ""
    if output and suffix not in (".html", ".htm", ".csv"):
        raise TierkitError(f"-o {output}: the call list is a .html or .csv file (or, without -o, a table here)")
    refuse_overwriting({"-o": output}, [input_path, orders_path, results_path])
    source = _evaluate(session, ruleset, input_path, orders_path, as_of, store, results_path, engine)
    lang = _language(source, lang)
    plan = source.evaluation.plan
    day = day or source.evaluation.bound.as_of
    logged = read_contacts(contacts, plan, day) if contacts else None
    earlier = earlier_run(plan, source.evaluation.bound.as_of, store, previous)
    built = build_calllist(source.evaluation, owner, lang, day, limit, logged, earlier)
    if not output:
        click.echo(printable(terminal_table(built)))
        return
    path = Path(output)
    if suffix == ".csv":
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(built, path)
    else:
        _renderer(session, source, lang).write("calllist.html", built.variables(), path, accounts=len(built.items))
    click.echo(f"wrote {len(built.items):,} accounts of {owner} to {output}{_rejected_note(source)}", err=True)
