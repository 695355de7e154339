"""``tierkit runs`` and ``tierkit diff``: what changed between two saved runs.

Grading once is not the method; watching customers move is (持续监测与调整).  A
diff answers the questions a sales manager asks after each run: who moved from A to
B (and how many moved along each path), who became at-risk or stopped being so, who
is newly a benchmark candidate; and for each change, why: the ruleset changed (the
fingerprints differ), the data changed (same ruleset), both (the ruleset and that
customer's field values changed), or an override pinned it.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass

import click

from .cli import cli
from .io import csv_writer
from .store import Comparison, RunInfo, Store

WATCHED = {"at_risk": ("new", "cleared"), "benchmark": ("new",)}
TITLES = {"at_risk": "at-risk", "benchmark": "benchmark candidates"}
STORE = click.option("--store", "store", metavar="PATH", help="The run store (default: $TIERKIT_STORE or ./tierkit-runs.sqlite).")


@dataclass(frozen=True)
class Change:
    """One customer's change: a label migration in a scheme, or a watched tag set or cleared."""

    change: str  # "migration", "at_risk_new", "at_risk_cleared", "benchmark_new"
    scheme: str  # for tags: every scheme carrying the tag, "; "-joined
    customer: str
    old: str | None
    new: str | None
    cause: str

    def as_dict(self) -> dict:
        return {"id": self.customer, "scheme": self.scheme, "from": self.old, "to": self.new, "cause": self.cause}


class Diff:
    """The changes from run ``a`` to run ``b``, optionally of one scheme only."""

    def __init__(self, found: Comparison, scheme: str | None = None):
        self.found, self.scheme = found, scheme
        self.a, self.b = found.a, found.b
        self.ruleset_changed = found.a.fingerprint != found.b.fingerprint
        self.schemes = [scheme] if scheme else found.schemes
        self.migrations = sorted(
            (Change("migration", s, customer, old, new, self._cause(customer, [s]))
             for s, customer, old, new in found.migrations if scheme in (None, s)),
            key=lambda c: (self.schemes.index(c.scheme), str(c.old), str(c.new), c.customer),
        )
        self.tags = {tag: self._tag_changes(tag) for tag in WATCHED}

    def _cause(self, customer: str, schemes) -> str:
        if any((customer, scheme) in self.found.overridden for scheme in schemes):
            return "override"
        if self.ruleset_changed:
            return "both" if customer in self.found.data_changed else "ruleset changed"
        return "data changed"

    def _tag_changes(self, tag: str) -> list[Change]:
        """Customers carrying ``tag`` (in any scheme, or in ``scheme``) in one run and not the other.

        A new customer carrying it counts as new; a customer gone from ``b`` is gone, not cleared.
        """
        def carriers(pairs: set[tuple[str, str]]) -> dict[str, list[str]]:
            found: dict[str, list[str]] = {}
            for customer, scheme in sorted(pairs):
                if self.scheme in (None, scheme):
                    found.setdefault(customer, []).append(scheme)
            return found

        before, after = (carriers(pairs) for pairs in self.found.tags[tag])
        gone = set(self.found.gone_customers)
        changes = [Change(f"{tag}_new", "; ".join(schemes), customer, None, tag, self._cause(customer, schemes))
                   for customer, schemes in after.items() if customer not in before]
        if "cleared" in WATCHED[tag]:
            changes += [Change(f"{tag}_cleared", "; ".join(schemes), customer, tag, None, self._cause(customer, schemes))
                        for customer, schemes in before.items() if customer not in after and customer not in gone]
        return sorted(changes, key=lambda c: (c.change, c.customer))

    def all_changes(self) -> list[Change]:
        return self.migrations + [change for changes in self.tags.values() for change in changes]

    def as_dict(self) -> dict:
        by_scheme: dict[str, list[Change]] = {}
        for change in self.migrations:
            by_scheme.setdefault(change.scheme, []).append(change)
        return {
            "from": self.a.as_dict(),
            "to": self.b.as_dict(),
            "ruleset_changed": self.ruleset_changed,
            "scheme": self.scheme,
            "customers": {"from": self.a.customers, "to": self.b.customers,
                          "new": self.found.new_customers, "gone": self.found.gone_customers},
            "migrations": {
                scheme: {"count": len(changes), "pairs": _pairs(changes), "customers": [c.as_dict() for c in changes]}
                for scheme, changes in by_scheme.items()
            },
            **{
                tag: {kind: [c.as_dict() for c in self.tags[tag] if c.change == f"{tag}_{kind}"] for kind in kinds}
                for tag, kinds in WATCHED.items()
            },
        }


def _pairs(changes: list[Change]) -> list[dict]:
    """Counts per (old, new) label pair, the commonest first."""
    counts = Counter((change.old, change.new) for change in changes)
    return [{"from": old, "to": new, "count": count}
            for (old, new), count in sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))]


# -- rendering ------------------------------------------------------------------------


def _run_line(run: RunInfo) -> str:
    return f"run {run.id} ({run.ruleset} {run.ruleset_version}, as of {run.as_of}, {run.customers:,} customers)"


def render_table(diff: Diff) -> str:
    a, b = diff.a, diff.b
    lines = [f"from {_run_line(a)}", f"  to {_run_line(b)}"]
    lines.append(f"ruleset changed: {_short(a.fingerprint)} → {_short(b.fingerprint)}" if diff.ruleset_changed
                 else f"ruleset unchanged: {_short(b.fingerprint)}")
    lines.append(f"customers: {len(diff.found.new_customers):,} new, {len(diff.found.gone_customers):,} gone")
    for scheme in diff.schemes:
        changes = [change for change in diff.migrations if change.scheme == scheme]
        lines.append(f"\n{scheme} migrations: {len(changes) or 'none'}")
        for pair in _pairs(changes):
            lines.append(f"  {pair['from']} → {pair['to']}: {pair['count']}")
        lines += _change_lines(changes, with_labels=True)
    for tag, kinds in WATCHED.items():
        changes = diff.tags[tag]
        counts = ", ".join(f"{sum(c.change == f'{tag}_{kind}' for c in changes)} {kind}" for kind in kinds)
        lines.append(f"\n{TITLES[tag]}: {counts}")
        lines += _change_lines(changes, with_labels=False)
    return "\n".join(lines)


def _change_lines(changes: list[Change], with_labels: bool) -> list[str]:
    if not changes:
        return []
    if with_labels:
        rows = [("customer", "from", "to", "cause")] + [(c.customer, str(c.old), str(c.new), c.cause) for c in changes]
    else:
        rows = [("", "customer", "scheme", "cause")] + [(c.change.rsplit("_", 1)[1], c.customer, c.scheme, c.cause) for c in changes]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] for row in rows]


def render_csv(diff: Diff) -> str:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["change", "scheme", "customer", "from", "to", "cause"])
    for change in diff.all_changes():
        writer.writerow([change.change, change.scheme, change.customer, change.old or "", change.new or "", change.cause])
    return out.getvalue().rstrip("\n")


def _short(fingerprint: str) -> str:
    return fingerprint.removeprefix("sha256:")[:12]


# -- commands -------------------------------------------------------------------------


@cli.command()
@STORE
@click.option("--json", "as_json", is_flag=True, help="Print the runs as a JSON array.")
def runs(store, as_json) -> None:
    """List the runs saved with `tierkit evaluate … --save`, oldest first."""
    with Store.open(store) as opened:
        saved = opened.runs()
    if as_json:
        click.echo(json.dumps([run.as_dict() for run in saved], ensure_ascii=False, indent=2))
        return
    if not saved:
        click.echo(f"no runs saved in {opened.path} yet", err=True)
        return
    header = ("run", "saved (UTC)", "as of", "ruleset", "version", "fingerprint", "customers", "inputs")
    rows = [header] + [
        (str(run.id), run.saved_at.replace("T", " ").removesuffix("+00:00"), run.as_of, run.ruleset, run.ruleset_version or "",
         _short(run.fingerprint), f"{run.customers:,}", " + ".join(f for f in (run.customers_file, run.orders_file) if f))
        for run in saved
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])


@cli.command()
@click.argument("run_a")
@click.argument("run_b")
@STORE
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="How to print the changes.")
@click.option("--scheme", "scheme", metavar="ID", help="Only this scheme's outcomes (label migrations and tags).")
def diff(run_a, run_b, store, output_format, scheme) -> None:
    """Grade migrations, new and cleared at-risk tags and new benchmark candidates from RUN_A to RUN_B.

    RUN_A and RUN_B are run ids (`tierkit runs`), `latest`, or `previous` (the run of
    the latest run's ruleset before it).
    """
    with Store.open(store) as opened:
        a, b = opened.run(run_a), opened.run(run_b)
        found = opened.compare(a, b, tuple(WATCHED))
    if scheme is not None and scheme not in found.schemes:
        raise click.BadParameter(f"runs {a.id} and {b.id} have no scheme {scheme!r} (they have {', '.join(found.schemes)})",
                                 param_hint="--scheme")
    result = Diff(found, scheme)
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    elif output_format == "csv":
        click.echo(render_csv(result))
    else:
        click.echo(render_table(result))
