"""The consultant's analysis commands: ``tierkit whatif`` and ``tierkit backtest``.

Both answer a client's question before a ruleset goes live: *who moves if we change
this?* (:mod:`tierkit.analysis.whatif`) and *do the grades predict what customers buy?*
(:mod:`tierkit.analysis.backtest`).  Those modules compute a JSON-ready object; this one adds
the command lines and draws the terminal view from the same object, so ``--json``
and the table always say the same thing.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence

import click

from tierkit import __version__
from tierkit.analysis.backtest import backtest, horizon_end, horizon_orders, pick_scheme
from tierkit.cli import Session, cli, say_missing_reasons
from tierkit.cli.options import AS_OF, LANG, STORE, engine_options, inputs, parse_as_of
from tierkit.engine.evaluation import compile_ruleset
from tierkit.errors import TierkitError
from tierkit.io.tables import json_default
from tierkit.engine.job import run_job
from tierkit.ruleset.labels import SCORE_DECIMALS, localize, show_score, shown_score
from tierkit.plan.compiler import Plan
from tierkit.render.format import MISSING, num, pct
from tierkit.analysis.whatif import apply_changes, compare, evaluate_pair

REASON_INDENT = "       - "


# -- whatif ---------------------------------------------------------------------------


@cli.command()
@click.argument("ruleset")
@inputs
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE",
              help="Change one value of RULESET: a dotted path (list items by id, else by index) = a YAML value. Repeatable.")
@click.option("--against", "other", metavar="OTHER.yaml", help="Compare with another ruleset (a path or a bundled name) instead.")
@AS_OF
@LANG
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as one JSON object.")
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True, help="How many movers to show.")
@STORE
@engine_options
@click.pass_obj
def whatif(session: Session, ruleset, input_path, orders_path, assignments, other, as_of, lang, as_json, top, store,
           engine) -> None:
    """Evaluate the same customers under RULESET as it is and as changed; show who moves."""
    if bool(assignments) == bool(other):
        raise TierkitError("give either --set KEY=VALUE (repeatable) or --against OTHER.yaml" + (", not both" if other else ""))
    base = session.ruleset(ruleset)
    changed = apply_changes(base, assignments) if assignments else session.ruleset(other)
    plans = (compile_ruleset(base, session.registry), compile_ruleset(changed, session.registry))
    known = {warning.message for warning in plans[0].warnings}
    for warning in plans[1].warnings:  # what the change brings, e.g. weights no longer summing to 1
        if warning.message not in known:
            click.echo(str(warning), err=True)
    job, after = evaluate_pair(plans, session.registry, input_path, orders_path, as_of, store, engine)
    say_missing_reasons(plans[1], engine)
    lang = lang or base.data.get("locale", "en")
    meta = {
        "tierkit": __version__,
        "as_of": as_of.isoformat(),
        "lang": lang,
        "before": _side(plans[0]),
        "after": _side(plans[1], list(assignments)),
        "read": job.read,
        "rejected": {"before": len(job.evaluation.rejected), "after": len(after.rejected)},
    }
    result = {"meta": meta, **compare(job.evaluation, after, lang, top)}
    click.echo(_json(result) if as_json else render_whatif(result))
    click.echo(
        f"read {meta['read']:,} · compared {result['customers']:,} · rejected {meta['rejected']['before']:,} before,"
        f" {meta['rejected']['after']:,} after · as of {meta['as_of']}",
        err=True,
    )


def _side(plan: Plan, changes: list[str] | None = None) -> dict:
    ruleset = plan.ruleset
    side = {"ruleset": ruleset.name, "version": ruleset.version, "fingerprint": ruleset.fingerprint, "source": str(ruleset.source)}
    return {**side, "changes": changes} if changes else side


def render_whatif(result: dict) -> str:
    """The terminal view of :func:`tierkit.analysis.whatif.compare`'s result: counts, matrices, movers."""
    meta = result["meta"]
    before, after = meta["before"], meta["after"]
    changes = after.get("changes")
    what = "with " + ", ".join(changes) if changes else f"against {after['ruleset']} {after['version']} ({after['source']})"
    lines = [
        f"what-if: {before['ruleset']} {before['version']} as it is, and {what}",
        f"{result['customers']:,} customers as of {meta['as_of']}",
        "",
    ]
    table = [["scheme", "kind", "changed", "scores changed"]]
    table += [[_titled(s), s["kind"], num(s["changed"]), num(s["scores_changed"])] for s in result["schemes"]]
    table.append(["rank", "", num(result["rank_changed"]), ""])
    table.append(["allocation", "", num(result["allocation_changed"]), ""])
    lines += text_table(table, right={2, 3})
    for noun, key in (("schemes", "schemes_only_"), ("customers evaluated", "only_")):
        for side in ("before", "after"):
            if names := result[key + side]:
                lines.append(f"{noun} only {side}: {', '.join(names[:20])}{' …' if len(names) > 20 else ''}")
    for scheme in result["schemes"]:
        if scheme["matrix"]:
            lines += ["", f"{_titled(scheme)}: {scheme['changed']:,} change label (rows: before, columns: after)"]
            lines += text_table(_matrix_rows(scheme["matrix"]), right=set(range(1, len(scheme["matrix"]["to"]) + 2)))
    if not any(scheme["changed"] for scheme in result["schemes"]):
        lines += ["", "no customer changes label"]
    if result["movers"]:
        lines += ["", f"top movers: {len(result['movers'])} of {result['moved']:,}"]
        for number, mover in enumerate(result["movers"], 1):
            lines += _mover_lines(number, mover)
    return "\n".join(lines)


def _titled(scheme: dict) -> str:
    return f"{scheme['id']} ({scheme['label']})" if scheme["label"] != scheme["id"] else scheme["id"]


def _matrix_rows(matrix: dict) -> list[list[str]]:
    counts = matrix["counts"]
    header = ["before \\ after", *map(_label, matrix["to"]), "total"]
    rows = [[_label(old), *(num(c) if c else "·" for c in row), num(sum(row))] for old, row in zip(matrix["from"], counts)]
    totals = [num(sum(column)) for column in zip(*counts)]
    return [header, *rows, ["total", *totals, num(sum(map(sum, counts)))]]


def _label(label) -> str:
    return MISSING if label is None else str(label)


def _mover_lines(number: int, mover: dict) -> list[str]:
    rank = mover["rank"]
    name = f" {mover['name']}" if mover["name"] else ""
    lines = [f"{number}. {mover['id']}{name} · rank {rank['before']} → {rank['after']}"]
    for change in mover["changes"]:
        old, new = change["before"], change["after"]
        moved = f"{_outcome(old)} → {_outcome(new)}" if old["label"] != new["label"] else _outcome(new)
        text = f"   {change['scheme']}: {moved}"
        if old["score"] is not None or new["score"] is not None:
            decimals = change.get("score_decimals", SCORE_DECIMALS)
            text += f" · score {show_score(old['score'], decimals)} → {show_score(new['score'], decimals)}"
            if change["score_change"] and None not in (old["score"], new["score"]):  # the change of the scores shown
                text += f" ({shown_score(new['score'], decimals) - shown_score(old['score'], decimals):+f})"
        lines.append(text)
        for side, outcome in (("before", old), ("after", new)):
            lines.append(f"     {side}:")
            lines += [REASON_INDENT + reason["text"] for reason in outcome.get("reasons", ())]  # none: said on stderr
    return lines


def _outcome(outcome: dict) -> str:
    label, display = _label(outcome["label"]), outcome["display"]
    return f"{label} ({display})" if display not in (None, label) else label


# -- backtest -------------------------------------------------------------------------


@cli.command(name="backtest")
@click.argument("ruleset")
@click.argument("customers_path", metavar="[CUSTOMERS]", required=False)
@click.option("--orders", "orders_path", required=True, help="The order table: orders up to --as-of grade, later ones are the outcome.")
@click.option("--as-of", required=True, callback=parse_as_of, help="The past date to grade as of, YYYY-MM-DD.")
@click.option("--horizon", default="12m", show_default=True, help="How long after --as-of to measure: 12m, 6m, 90d, 2w, 1y.")
@click.option("--scheme", "scheme_id", help="The scheme to test (default: the first weighted, else pipeline or rules, scheme).")
@click.option("--json", "as_json", is_flag=True, help="Print the backtest as one JSON object.")
@engine_options
@click.pass_obj
def backtest_command(session: Session, ruleset, customers_path, orders_path, as_of, horizon, scheme_id, as_json,
                     engine) -> None:
    """Grade customers as of a past date; measure what each grade bought in the horizon after."""
    end = horizon_end(as_of, horizon)
    plan = compile_ruleset(session.ruleset(ruleset), session.registry)
    scheme = pick_scheme(plan, scheme_id)
    # Graded as of a past date from the data alone: the run store holds later runs, so
    # neither hysteresis nor previous_run reads it here.
    job = run_job(plan, session.registry, customers_path, orders_path, as_of, history=False, engine=engine)
    period = horizon_orders(job, session.registry, orders_path, end)
    lang = plan.ruleset.data.get("locale", "en")
    meta = job.meta(lang)
    meta["scheme"] = {"id": scheme.id, "kind": scheme.kind, "label": localize(scheme.label, lang)}
    meta["horizon"] = {
        "length": horizon,
        "start": as_of.isoformat(),
        "end": end.isoformat(),
        "last_order_date": None if period.last_order_date is None else period.last_order_date.isoformat(),
        "complete": period.complete,
    }
    result = {"meta": meta, **backtest(job.evaluation, scheme, period, lang)}
    click.echo(_json(result) if as_json else render_backtest(result))
    if not period.complete:
        click.echo(
            f"warning: the horizon ends {end}, after the last order in {orders_path} ({period.last_order_date or 'none'}):"
            " the horizon is incomplete",
            err=True,
        )
    click.echo(job.describe_orders(), err=True)
    click.echo(f"read {meta['read']:,} · evaluated {meta['evaluated']:,} · rejected {meta['rejected']:,}", err=True)


def render_backtest(result: dict) -> str:
    """The terminal view of :func:`tierkit.analysis.backtest.backtest`'s result, ending in the verdict."""
    meta = result["meta"]
    scheme, horizon = meta["scheme"], meta["horizon"]
    described = f"{scheme['label']}, {scheme['kind']}" if scheme["label"] != scheme["id"] else scheme["kind"]
    lines = [
        f"backtest: {meta['ruleset']} {meta['ruleset_version']} · {scheme['id']} ({described}) graded as of {meta['as_of']}",
        f"horizon {horizon['length']}: orders after {horizon['start']} up to {horizon['end']}"
        f" · last order in the file: {horizon['last_order_date'] or MISSING}",
        "",
    ]
    table = [["grade", "customers", "share", "revenue", "per customer", "retention", "revenue share"]]
    for grade in [*result["grades"], result["total"]]:
        name = "total" if grade is result["total"] else _outcome(grade)
        table.append([
            name, num(grade["customers"]), pct(grade["customer_share"], 1), num(round(grade["revenue"], 2)),
            num(None if grade["revenue_per_customer"] is None else round(grade["revenue_per_customer"], 2)),
            pct(grade["retention"], 1), pct(grade["revenue_share"], 1),
        ])
    lines += text_table(table, right=set(range(1, 7)))
    ungraded = result["ungraded"]
    if ungraded["customers"]:
        lines.append(
            f"not graded: {_count(ungraded['customers'], 'customer')} with {_count(ungraded['orders'], 'order')}"
            f" ({num(round(ungraded['revenue'], 2))}) in the horizon, left out of the shares"
        )
    top = result["top"]
    lines += [
        "",
        f"top grades {'+'.join(top['labels'])}: {pct(top['customer_share'], 1)} of customers,"
        f" {pct(top['revenue_share'], 1)} of the horizon revenue",
        "monotone: " + _monotone_text(result),
        "verdict: " + result["verdict"],
    ]
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'s' if number != 1 else ''}"


def _monotone_text(result: dict) -> str:
    if result["monotone"] is None:
        return "cannot tell (fewer than two grades have customers)"
    if result["monotone"]:
        return f"yes ({' > '.join(result['order'])} in revenue per customer)"
    pairs = [
        f"{b['lower']} {'=' if b['lower_per_customer'] == b['higher_per_customer'] else '>'} {b['higher']}"
        for b in result["breaks"]
    ]
    return f"no ({', '.join(pairs)} in revenue per customer)"


# -- shared -----------------------------------------------------------------------------


def _json(result: dict) -> str:
    return json.dumps(result, ensure_ascii=False, indent=2, default=json_default)


def text_table(rows: Sequence[Sequence[str]], right: set[int] = frozenset()) -> list[str]:
    """Lines of a plain-text table, header first, with columns that line up when cells
    hold Chinese text (two columns wide); columns in ``right`` are right-aligned."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: Sequence[str]) -> str:
        cells = [
            (" " * (width - _width(cell)) + cell) if index in right else (cell + " " * (width - _width(cell)))
            for index, (cell, width) in enumerate(zip(row, widths))
        ]
        return "  " + "  ".join(cells).rstrip()

    return [line(rows[0]), "  " + "  ".join("-" * width for width in widths), *map(line, rows[1:])]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
