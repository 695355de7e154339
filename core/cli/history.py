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

from tierkit.cli import cli
from tierkit.io.outputs import csv_writer
from tierkit.store.runs import Comparison, RunInfo, Store

WATCHED = {"at_risk": ("new", "cleared"), "nail": ("new",), "benchmark": ("new",)}
TITLES = {"at_risk": "at-risk", "nail": "nails", "benchmark": "benchmark candidates"}
ALERTING = ("at_risk", "nail")  # tags whose gain is news for the account's owner (--exit-code, notify)
FORMATS = ("text", "markdown", "csv", "json")
STORE = click.option("--store", "store", metavar="PATH", help="The run store (default: $TIERKIT_STORE or ./tierkit-runs.sqlite).")


@dataclass(frozen=True)
class Change:
    """One customer's change: a label migration in a scheme, or a watched tag set or cleared."""

    change: str  # "migration", "at_risk_new", "at_risk_cleared", "nail_new", "benchmark_new"
    scheme: str  # for tags: every scheme carrying the tag, "; "-joined
    customer: str
    old: str | None
    new: str | None
    cause: str
    name: str | None = None
    owner: str | None = None

    def as_dict(self) -> dict:
        return {"id": self.customer, "name": self.name, "owner": self.owner, "scheme": self.scheme, "from": self.old,
                "to": self.new, "cause": self.cause}


class Diff:
    """The changes from run ``a`` to run ``b``, optionally of one scheme only."""

    def __init__(self, found: Comparison, scheme: str | None = None):
        self.found, self.scheme = found, scheme
        self.a, self.b = found.a, found.b
        self.ruleset_changed = found.a.fingerprint != found.b.fingerprint
        self.schemes = [scheme] if scheme else found.schemes
        self.migrations = sorted(
            (Change("migration", s, customer, old, new, self._cause(customer, [s]), *self._person(customer))
             for s, customer, old, new in found.migrations if scheme in (None, s)),
            key=lambda c: (self.schemes.index(c.scheme), str(c.old), str(c.new), c.customer),
        )
        self.tags = {tag: self._tag_changes(tag) for tag in WATCHED}

    def _person(self, customer: str) -> tuple[str | None, str | None]:
        return self.found.people.get(customer, (None, None))

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
        changes = [Change(f"{tag}_new", "; ".join(schemes), customer, None, tag, self._cause(customer, schemes), *self._person(customer))
                   for customer, schemes in after.items() if customer not in before]
        if "cleared" in WATCHED[tag]:
            changes += [Change(f"{tag}_cleared", "; ".join(schemes), customer, tag, None, self._cause(customer, schemes),
                               *self._person(customer))
                        for customer, schemes in before.items() if customer not in after and customer not in gone]
        return sorted(changes, key=lambda c: (c.change, c.customer))

    def all_changes(self) -> list[Change]:
        return self.migrations + [change for changes in self.tags.values() for change in changes]

    def alerts(self) -> list[Change]:
        """What an owner should hear of: grade changes and newly gained at-risk or nail tags."""
        return self.migrations + [change for tag in ALERTING for change in self.tags[tag] if change.change == f"{tag}_new"]

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


@dataclass
class Section:
    """One part of a diff as text or Markdown shows it: a title, counts per label pair,
    and a table of the customers concerned."""

    title: str
    pairs: list[dict]
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]


def summary_lines(diff: Diff) -> list[str]:
    a, b = diff.a, diff.b
    return [
        f"from {_run_line(a)}",
        f"  to {_run_line(b)}",
        f"ruleset changed: {_short(a.fingerprint)} → {_short(b.fingerprint)}" if diff.ruleset_changed
        else f"ruleset unchanged: {_short(b.fingerprint)}",
        f"customers: {len(diff.found.new_customers):,} new, {len(diff.found.gone_customers):,} gone",
    ]


def sections(diff: Diff) -> list[Section]:
    """Each scheme's migrations, then each watched tag's changes."""
    found = []
    for scheme in diff.schemes:
        changes = [change for change in diff.migrations if change.scheme == scheme]
        rows = [(c.customer, c.name or "", c.owner or "", str(c.old), str(c.new), c.cause) for c in changes]
        found.append(Section(f"{scheme} migrations: {len(changes) or 'none'}", _pairs(changes),
                             ("customer", "name", "owner", "from", "to", "cause"), rows))
    for tag, kinds in WATCHED.items():
        changes = diff.tags[tag]
        counts = ", ".join(f"{sum(c.change == f'{tag}_{kind}' for c in changes)} {kind}" for kind in kinds)
        rows = [(c.change.rsplit("_", 1)[1], c.customer, c.name or "", c.owner or "", c.scheme, c.cause) for c in changes]
        found.append(Section(f"{TITLES[tag]}: {counts}", [], ("", "customer", "name", "owner", "scheme", "cause"), rows))
    return found


def render_text(diff: Diff) -> str:
    lines = summary_lines(diff)
    for section in sections(diff):
        lines.append(f"\n{section.title}")
        lines += [f"  {pair['from']} → {pair['to']}: {pair['count']}" for pair in section.pairs]
        if section.rows:
            rows = [section.header, *section.rows]
            widths = [max(len(row[i]) for row in rows) for i in range(len(section.header) - 1)]
            lines += ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] for row in rows]
    return "\n".join(lines)


def render_markdown(diff: Diff) -> str:
    """For a wiki page, an issue or a chat that renders Markdown."""
    lines = [f"## Changes to {diff.b.ruleset}, as of {diff.a.as_of} → {diff.b.as_of}", ""]
    lines += [f"- {line.strip()}" for line in summary_lines(diff)]
    for section in sections(diff):
        lines += ["", f"### {section.title}"]
        if section.pairs:
            lines += ["", *_markdown_table(("from", "to", "customers"), [(p["from"], p["to"], p["count"]) for p in section.pairs])]
        if section.rows:
            lines += ["", *_markdown_table(section.header, section.rows)]
    return "\n".join(lines)


def _markdown_table(header: tuple, rows: list[tuple]) -> list[str]:
    def cells(row) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |"

    return [cells(header), "|" + "---|" * len(header), *map(cells, rows)]


def render_csv(diff: Diff) -> str:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["change", "scheme", "customer", "from", "to", "cause", "name", "owner"])
    for change in diff.all_changes():
        writer.writerow([change.change, change.scheme, change.customer, change.old or "", change.new or "", change.cause,
                         change.name or "", change.owner or ""])
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


def compare_runs(store: str | None, run_a: str, run_b: str, scheme: str | None = None) -> Diff:
    """The diff of two saved runs (ids, ``latest`` or ``previous``), of one scheme or all."""
    with Store.open(store) as opened:
        a, b = opened.run(run_a), opened.run(run_b)
        found = opened.compare(a, b, tuple(WATCHED))
    if scheme is not None and scheme not in found.schemes:
        raise click.BadParameter(f"runs {a.id} and {b.id} have no scheme {scheme!r} (they have {', '.join(found.schemes)})",
                                 param_hint="--scheme")
    return Diff(found, scheme)


@cli.command()
@click.argument("run_a")
@click.argument("run_b")
@STORE
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="How to print the changes.")
@click.option("--scheme", "scheme", metavar="ID", help="Only this scheme's outcomes (label migrations and tags).")
@click.option("--exit-code", is_flag=True, help="Exit 1 when a customer changed grade or gained an at-risk or nail tag (for cron).")
def diff(run_a, run_b, store, output_format, scheme, exit_code) -> None:
    """Grade migrations, new and cleared at-risk tags, new nails and benchmark candidates from RUN_A to RUN_B.

    RUN_A and RUN_B are run ids (`tierkit runs`), `latest`, or `previous` (the run of
    the latest run's ruleset before it).
    """
    result = compare_runs(store, run_a, run_b, scheme)
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo({"csv": render_csv, "markdown": render_markdown, "text": render_text}[output_format](result))
    if exit_code and result.alerts():
        click.get_current_context().exit(1)
