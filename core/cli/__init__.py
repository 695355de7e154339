"""The ``tierkit`` command line.

Every user error is a :class:`tierkit.errors.TierkitError`, turned here, once, into a
one-line message and an exit code: 0 ok, 1 the ruleset failed validation, 2 a usage
error or an input that cannot be read.  Nothing else prints a traceback.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tierkit import __version__
from tierkit.errors import EXIT_INVALID, EXIT_OK, EXIT_USAGE, RulesetError, TierkitError, mask_secrets
from tierkit.io.tables import WRITE_MODES
from tierkit.cli.logs import LEVELS, LOGGER, Progress, configure, logs_json
from tierkit.cli.options import AS_OF, LANG, REASONS, STORE, csv_raw, engine_options, inputs
from tierkit.cli.terminal import printable

if TYPE_CHECKING:
    from tierkit.io.tables import Rejected
    from tierkit.engine.job import Job

# Modules are imported where a command needs them, so that `tierkit --help`, and every
# command, loads only what it runs (the SQL back end, jsonschema and openpyxl included).

REJECTED_SHOWN = 10


class Session:
    """What every command needs: the plugins, loaded once per invocation, and whether
    to stay quiet."""

    def __init__(self, plugin_files: tuple[str, ...], quiet: bool = False):
        from tierkit.manager import make_plugin_manager
        from tierkit.registry import Registry

        self.pm = make_plugin_manager(plugin_files)
        self.registry = Registry.collect(self.pm)
        self.quiet = quiet

    def say(self, message: str) -> None:
        """A summary line on stderr, unless ``--quiet``."""
        if not self.quiet:
            click.echo(message, err=True)

    def ruleset(self, ref: str):
        from tierkit.ruleset.load import load_ruleset

        return load_ruleset(ref, self.registry.ruleset_dirs)


class LazyGroup(click.Group):
    """Commands kept in other modules, imported only when that command runs.

    ``lazy`` maps a command's name to its module, the command object's name there, and
    the one-line summary ``tierkit --help`` lists (so listing imports nothing)."""

    lazy = {
        "backtest": ("analysis", "backtest_command", "Grade as of a past date; measure what each grade bought afterwards."),
        "brief": ("printing", "brief", "Printable account briefs: one A4 page per account."),
        "calllist": ("printing", "calllist", "A rep's actions for today, in Eisenhower order."),
        "diff": ("history", "diff", "Grade migrations and new or cleared tags between two saved runs."),
        "doctor": ("doctor", "doctor", "What this installation can do: each optional part and how to install it."),
        "init": ("authoring", "init", "Scaffold a ruleset folder whose tests pass out of the box."),
        "notify": ("notify", "notify", "Send each account owner a digest of grade changes and new at-risk or nail tags."),
        "report": ("printing", "report", "The portfolio report: grades, classes, Pareto, quadrants, workload."),
        "runs": ("history", "runs", "List the runs saved with `tierkit evaluate … --save`."),
        "test": ("authoring", "test_command", "Run a ruleset's YAML test cases; exit 1 if one fails."),
        "whatif": ("analysis", "whatif", "How many customers change grade or class under a changed ruleset."),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            module, attribute, summary = self.lazy[name]
            command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
            command.short_help = summary
            self.add_command(command, name)
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][2] if name in self.lazy else self.commands[name].get_short_help_str(200))
                for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tierkit")
@click.option("--plugin", "plugin_files", multiple=True, type=click.Path(dir_okay=False), help="Load a local plugin module (repeatable).")
@csv_raw(command_level=False)
@click.option("-q", "--quiet", is_flag=True, help="No progress display and no summary lines on stderr; errors and warnings only.")
@click.option("--log-level", type=click.Choice(LEVELS), help="Log tierkit's stages at this level and above to stderr (default: warning).")
@click.option("--log-json", is_flag=True, help="Log records (and errors) as JSON lines on stderr, for schedulers.")
@click.pass_context
def cli(ctx: click.Context, plugin_files: tuple[str, ...], quiet: bool, log_level: str | None, log_json: bool) -> None:
    """Classify, grade and rank sales accounts with YAML rulesets."""
    configure(log_level, log_json)
    ctx.obj = Session(plugin_files, quiet)


@cli.command()
@click.argument("ruleset")
@click.pass_obj
def validate(session: Session, ruleset: str) -> None:
    """Check RULESET (a path or a bundled name); print every problem as file:line:col."""
    from tierkit.engine.evaluation import check_ruleset

    try:
        loaded = session.ruleset(ruleset)
    except RulesetError as error:  # unreadable YAML: reported like every other problem
        source, plan, diagnostics = ruleset, None, error.diagnostics + error.warnings
    else:
        source = loaded.source
        plan, diagnostics = check_ruleset(loaded, session.registry)
        if plan is not None:
            from tierkit.analysis.overlap import overlap_warnings

            diagnostics += overlap_warnings(plan)
    for diagnostic in diagnostics:
        click.echo(printable(diagnostic))
    if plan is None:
        errors = sum(d.severity == "error" for d in diagnostics)
        click.echo(f"{source}: {errors} error{'s' if errors != 1 else ''}", err=True)
        click.get_current_context().exit(EXIT_INVALID)
    schemes, warnings = len(plan.schemes), len(diagnostics)
    click.echo(
        f"{source}: ok ({schemes} scheme{'s' if schemes != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''})",
        err=True,
    )


def run_evaluation(
    session: Session, ruleset: str, input_path, orders_path, as_of: dt.date, progress: Progress, store: str | None = None,
    engine: str = "python",
) -> Job:
    """Compile and run on ``engine``; a plan reading ``previous_run`` gets the store's
    latest run of the ruleset (``store``, else the default store when it exists; see
    :func:`run_job`)."""
    from tierkit.engine.evaluation import compile_ruleset
    from tierkit.engine.job import run_job

    plan = compile_ruleset(session.ruleset(ruleset), session.registry)
    progress(f"compiled {plan.ruleset.name} {plan.ruleset.version}")
    job = run_job(plan, session.registry, input_path, orders_path, as_of, progress, store, engine=engine)
    for warning in job.evaluation.warnings:
        click.echo(printable(warning), err=True)
    return job


def report_rejected(job: Job, rejected_path: str | None) -> None:
    """Rejected rows go to the file asked for, or else the first few to stderr."""
    from tierkit.io.tables import write_rejected

    rejected = job.rejected
    if rejected_path:
        write_rejected(rejected_path, rejected)
        orders = sum(1 for item in rejected if item.table == "orders")
        click.echo(f"rejected rows in {rejected_path}: {len(rejected) - orders:,} customers · {orders:,} orders", err=True)
        return
    for item in rejected[:REJECTED_SHOWN]:
        click.echo(printable(f"rejected: {item}"), err=True)
    if len(rejected) > REJECTED_SHOWN:
        click.echo(f"… and {len(rejected) - REJECTED_SHOWN} more rejected rows; use --rejected FILE to keep them all", err=True)


def report_coerced(coerced: list[Rejected]) -> None:
    """The first values read as missing (``on_invalid: missing``), so a reader sees what they were."""
    for item in coerced[:REJECTED_SHOWN]:
        click.echo(f"coerced to missing: {item}", err=True)
    if len(coerced) > REJECTED_SHOWN:
        click.echo(f"… and {len(coerced) - REJECTED_SHOWN} more values coerced to missing", err=True)


def describe_run(meta: dict, plan) -> str:
    """The one-line account of a run every engine prints; its counts add up to the rows read."""
    counts = [f"read {meta['read']:,}", f"evaluated {meta['evaluated']:,}", f"rejected {meta['rejected']:,}"]
    if "duplicates" in meta:
        counts.append(f"duplicate ids {meta['duplicates']:,} ({plan.ruleset.data['duplicates']} kept)")
    if "coerced_to_missing" in meta:
        counts.append(f"coerced to missing {meta['coerced_to_missing']:,}")
    return " · ".join([*counts, f"{plan.ruleset.name} {plan.ruleset.version} as of {meta['as_of']}"])


@cli.command()
@click.argument("ruleset")
@inputs
@click.option("-o", "--output", help="Results file (.jsonl, .csv, .xlsx, .parquet) or database table "
              "('sqlite:///grades.db?table=grades', 'postgresql+psycopg://user@host/crm?table=grades'); default: JSON Lines on stdout.")
@click.option("--write-mode", type=click.Choice(WRITE_MODES), help="With a database -o: make the table anew (replace, the default), "
              "replace the rows of these customers (upsert, on id) or keep every run's rows (append, keyed by run id).")
@click.option("--rejected", "rejected_path", help="Write rejected rows (table, file, row, column, field, reason) to this CSV file.")
@AS_OF
@LANG
@click.option("--progress/--no-progress", default=None, help="Show progress on stderr (default: on a terminal).")
@click.option("--save", is_flag=True, help="Record the run in the run store (tierkit runs, tierkit diff).")
@click.option("--store", "store", metavar="PATH", help="The run store: saved to, and read for hysteresis (default: $TIERKIT_STORE or ./tierkit-runs.sqlite).")
@engine_options
@REASONS
@csv_raw(command_level=True)
@click.pass_obj
def evaluate(session: Session, ruleset, input_path, orders_path, output, write_mode, rejected_path, as_of, lang, progress, save,
             store, engine, reasons) -> None:
    """Evaluate INPUT (.csv, .json, .jsonl, .xlsx, .parquet) and/or --orders with RULESET; write ranked results."""
    from tierkit.io.outputs import refuse_overwriting

    refuse_overwriting({"-o": output, "--rejected": rejected_path}, [input_path, orders_path])
    with Progress(progress, session.quiet) as report:
        if engine != "python":
            evaluate_on_sql_engine(session, ruleset, input_path, orders_path, output, write_mode, rejected_path, as_of, lang,
                                   report, store, save, reasons, engine)
        else:
            evaluate_on_python(session, ruleset, input_path, orders_path, output, write_mode, rejected_path, as_of, lang,
                               report, store, save, reasons)


def evaluate_on_python(session: Session, ruleset, input_path, orders_path, output, write_mode, rejected_path, as_of, lang,
                       report: Progress, store, save, reasons) -> None:
    """``evaluate`` in this process: read, evaluate, save when asked, write."""
    from tierkit.engine.evaluation import paused_gc
    from tierkit.io.tables import dump_json_lines, write_results
    from tierkit.engine.results import SchemaRecords
    from tierkit.store.runs import Store

    runs = Store.open(store, create=True) if save else None  # a store that cannot be written fails before the work
    job = run_evaluation(session, ruleset, input_path, orders_path, as_of, report, store)
    evaluation = job.evaluation
    lang = lang or evaluation.plan.ruleset.data.get("locale", "en")
    meta = job.meta(lang)
    if runs is not None:
        save_first(session, runs, evaluation, meta, input_path, orders_path, report)
    report(writing(meta["evaluated"], output))
    records = evaluation.records(lang, reasons)
    records = SchemaRecords(records.schema, report.track(records, len(evaluation.rows), "writing results"), job.rejected)
    with paused_gc():
        if output and output != "-":
            write_results(output, records, meta, session.registry, write_mode)
        else:
            dump_json_lines(sys.stdout, records, meta)
    report_rejected(job, rejected_path)
    report_coerced(evaluation.coerced)
    if job.orders is not None:
        session.say(job.describe_orders())
    session.say(describe_run(meta, evaluation.plan))


def evaluate_on_sql_engine(session: Session, ruleset, input_path, orders_path, output, write_mode, rejected_path, as_of, lang,
                           report, store, save, reasons, engine) -> None:
    """``evaluate --engine duckdb|spark``: the ruleset compiled to SQL, run where the data is;
    the results stream back through the records the Python engine writes (read whole
    only with ``--save``, to record them)."""
    from tierkit.engine.evaluation import compile_ruleset
    from tierkit.engine.job import with_previous
    from tierkit.engine.sql.evaluation import evaluation_of, write_sql_results
    from tierkit.engine.sql.run import describe_orders, run_sql_job
    from tierkit.store.runs import Store

    runs = Store.open(store, create=True) if save else None  # a store that cannot be written fails before the work
    plan = with_previous(compile_ruleset(session.ruleset(ruleset), session.registry), store)
    report(f"compiled {plan.ruleset.name} {plan.ruleset.version}; starting {engine}")
    sql_engine = engine.open()
    try:
        job = run_sql_job(plan, session.registry, sql_engine, input_path, orders_path, as_of, report, reasons != "none")
        for warning in job.warnings:
            click.echo(printable(warning), err=True)
        lang = lang or plan.ruleset.data.get("locale", "en")
        meta, rows = job.meta(lang), None
        if runs is not None:
            evaluation = evaluation_of(job)
            rows = evaluation.ranked()
            save_first(session, runs, evaluation, meta, input_path, orders_path, report)
        report(writing(job.evaluated, output))
        write_sql_results(job, output, lang, session.registry, sys.stdout, write_mode, reasons, meta, rows)
    finally:
        sql_engine.close()
    if reasons != "none":
        say_missing_reasons(plan, engine)
    report_rejected(job, rejected_path)
    report_coerced(job.coerced)
    if job.orders is not None:
        session.say(describe_orders(job.orders))
    session.say(f"{describe_run(meta, plan)} · {engine}")


def save_first(session: Session, runs, evaluation, meta: dict, input_path, orders_path, report) -> None:
    """Record the run before anything is written, so that what is written names it
    (``meta["run_id"]``: a database table's ``run_id`` column)."""
    report(f"saving to {runs.path}")
    with runs:
        saved = runs.save(evaluation, input_path, orders_path)
    meta["run_id"] = saved.id
    session.say(f"saved run {saved.id} to {runs.path}")


def writing(evaluated: int, output: str | None) -> str:
    """The progress line before the results are written."""
    from tierkit.io.tables import mask_password

    return f"evaluated {evaluated:,} customers; writing {mask_password(output) if output and output != '-' else 'to stdout'}"


def say_missing_reasons(plan, engine: str) -> None:
    """A warning on stderr naming the schemes whose kind gives no reasons on ``engine`` yet."""
    if engine != "python":
        from tierkit.engine.sql.evaluation import missing_reasons_note

        if note := missing_reasons_note(plan, engine):
            click.echo(note, err=True)


@cli.command()
@click.argument("ruleset")
@inputs
@click.option("--customer", "customer_id", required=True, help="The customer's id.")
@click.option("--json", "as_json", is_flag=True, help="Print the customer's result record as JSON.")
@AS_OF
@LANG
@STORE
@engine_options
@click.pass_obj
def explain(session: Session, ruleset, input_path, orders_path, customer_id, as_json, as_of, lang, store, engine) -> None:
    """Show every scheme's outcome for one customer, with its reasons."""
    from tierkit.analysis.explanation import render_explanation
    from tierkit.io.tables import json_default

    job = run_evaluation(session, ruleset, input_path, orders_path, as_of, Progress(False), store, engine)
    evaluation = job.evaluation
    row = evaluation.find(customer_id)
    if row is None:
        rejected = job.rejection_of(customer_id)
        if rejected is not None:
            raise TierkitError(f"customer {customer_id!r} was rejected: {rejected}")
        raise TierkitError(f"customer {customer_id!r} is not among the evaluated customers")
    lang = lang or evaluation.plan.ruleset.data.get("locale", "en")
    record = evaluation.record(row, lang)
    if as_json:
        click.echo(json.dumps({"meta": evaluation.meta(lang), **record}, ensure_ascii=False, indent=2, default=json_default))
        return
    click.echo(printable(render_explanation(evaluation, record, lang)))


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the schema to a file instead of stdout.")
@click.pass_obj
def schema(session: Session, output) -> None:
    """Print the ruleset JSON Schema (for editors: yaml-language-server)."""
    from tierkit.ruleset.schema import ruleset_schema

    text = json.dumps(ruleset_schema(session.registry.kinds), ensure_ascii=False, indent=2) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@cli.command()
@click.pass_obj
def plugins(session: Session) -> None:
    """List plugins, and the kinds, functions, readers and writers each provides."""
    from tierkit.manager import plugin_origin

    registry = session.registry
    click.echo("plugins:")
    for name, _plugin in sorted(session.pm.list_name_plugin()):
        click.echo(f"  {name}  ({plugin_origin(session.pm, name)})")
    sections = [
        ("scheme kinds", registry.kinds, "kind", lambda kind: kind.description.splitlines()[0]),
        ("functions", registry.functions, "function", lambda function: function.description),
        ("readers", registry.readers, "reader", lambda reader: reader.name),
        ("writers", registry.writers, "writer", lambda writer: writer.name),
        ("sources", registry.sources, "source", lambda source: source.name),
    ]
    for title, table, what, describe in sections:
        click.echo(f"{title}:")
        for key in sorted(table):
            click.echo(f"  {key:<14} {registry.origin(what, key):<12} {describe(table[key])}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and turn every failure into one line and an exit code."""
    configure(None, False)  # until the options say otherwise (an error in them is plain text)
    try:
        code = cli.main(args=argv, prog_name="tierkit", standalone_mode=False)
    except click.Abort:
        _fail("aborted")
        return EXIT_USAGE
    except click.ClickException as error:
        _fail(error.format_message())
        return EXIT_USAGE
    except RulesetError as error:
        for diagnostic in error.diagnostics:
            _fail(str(diagnostic), prefix="")
        return EXIT_INVALID
    except TierkitError as error:
        _fail(str(error))
        return error.exit_code
    except BrokenPipeError:
        sys.stderr.close()
        return EXIT_OK
    except SystemExit:
        # Click answers a closed output pipe (`tierkit evaluate … | head`) by quieting
        # stdout and exiting 1, which here would mean "invalid ruleset": a reader that
        # stopped early is no failure.
        if isinstance(sys.stdout, click.utils.PacifyFlushWrapper):
            return EXIT_OK
        raise
    except Exception as error:  # a bug: still one line, with the escape hatch to see it whole
        if os.environ.get("TIERKIT_DEBUG"):
            raise
        _fail(f"internal error: {type(error).__name__}: {error} (set TIERKIT_DEBUG=1 for details)")
        return EXIT_USAGE
    return code if isinstance(code, int) else EXIT_OK


def _fail(message: str, prefix: str = "tierkit: ") -> None:
    """One line on stderr, secrets masked; with ``--log-json``, one JSON record, so a scheduler sees why."""
    message = mask_secrets(message)
    if logs_json():
        LOGGER.error(message)
    else:
        click.echo(printable(f"{prefix}{message}"), err=True)  # data in a message cannot drive the terminal


def console_main() -> None:
    sys.exit(main())

