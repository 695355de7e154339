"""``tierkit notify``: tell each account owner what changed for their customers.

After a nightly run, a sales rep needs to hear of their own accounts only: who moved
grade, who became at-risk or a nail.  The changes between two saved runs (the same
:class:`tierkit.cli.history.Diff` ``tierkit diff`` prints) are grouped by owner into one
digest each and sent through apprise to every ``--to`` URL: a DingTalk, WeCom, Feishu
or Slack robot, an email address, or any webhook (``json://host/path``).  apprise comes
with the ``notify`` extra (``pip install 'tierkit[notify]'``).

Destinations are named in messages by their scheme only, since apprise URLs carry
their tokens in the path as well as in the password.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import click

from tierkit.errors import TierkitError
from tierkit.cli.history import STORE, Change, Diff, compare_runs

UNASSIGNED = "(no owner)"


@dataclass(frozen=True)
class Digest:
    """The changes one owner should hear of, as one message."""

    owner: str
    title: str
    changes: list[Change]

    @property
    def body(self) -> str:
        return "\n".join(map(_line, self.changes))


def digests(diff: Diff) -> list[Digest]:
    """One digest per owner with changes (owners in name order, unassigned last)."""
    by_owner: dict[str, list[Change]] = {}
    for change in diff.alerts():
        by_owner.setdefault(change.owner or UNASSIGNED, []).append(change)
    period = f"{diff.b.ruleset}, {diff.a.as_of} → {diff.b.as_of}"
    found = []
    for owner in sorted(by_owner, key=lambda name: (name == UNASSIGNED, name)):
        changes = sorted(by_owner[owner], key=lambda c: (c.customer, c.change != "migration", c.change, c.scheme))
        found.append(Digest(owner, f"{owner}: {_count(len(changes), 'change')} ({period})", changes))
    return found


def _line(change: Change) -> str:
    """``- C00483 Acme Ltd: grade A → B (data changed)`` or ``…: new at-risk tag (…)``."""
    who = f"{change.customer} {change.name}" if change.name else change.customer
    what = f"{change.scheme} {change.old} → {change.new}" if change.change == "migration" else f"new {change.new.replace('_', '-')} tag"
    return f"- {who}: {what} ({change.cause})"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def send(destinations: tuple[str, ...], found: list[Digest]) -> None:
    """Each digest to every destination; a refused URL or a failed send is one error."""
    import apprise

    sender = apprise.Apprise()
    for url in destinations:
        if not sender.add(url):
            raise TierkitError(f"--to {_shown(url)}: not a notification URL apprise knows (see its list of services)")
    for digest in found:
        with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as log:
            sent = sender.notify(title=digest.title, body=digest.body, body_format=apprise.NotifyFormat.TEXT)
        if not sent:
            lines = [line.strip() for line in log.getvalue().splitlines() if line.strip()]
            reason = f": {lines[-1]}" if lines else ""
            raise TierkitError(f"could not send {digest.owner}'s digest to every destination{reason}")


def _shown(url: str) -> str:
    scheme, separator, _rest = url.partition("://")
    return f"{scheme}://…" if separator else "(not a URL)"


@click.command()
@click.argument("run_a")
@click.argument("run_b")
@click.option("--to", "destinations", multiple=True, metavar="URL",
              help="Where to send the digests (repeatable): an apprise URL, e.g. dingtalk://TOKEN, wecombot://KEY, "
                   "feishu://TOKEN, slack://…, mailto://…, json://host/path.")
@click.option("--dry-run", is_flag=True, help="Print the digests instead of sending them.")
@STORE
def notify(run_a, run_b, destinations, dry_run, store) -> None:
    """Send each owner a digest of grade changes and new at-risk or nail tags from RUN_A to RUN_B."""
    if not destinations and not dry_run:
        raise TierkitError("give at least one --to URL (or --dry-run to print the digests)")
    if not dry_run and importlib.util.find_spec("apprise") is None:  # said before the store is read
        raise TierkitError("notify needs apprise", hint="pip install 'tierkit[notify]'")
    found = digests(compare_runs(store, run_a, run_b))
    if not found:
        click.echo("no grade changes or new at-risk or nail tags: nothing to send", err=True)
        return
    if dry_run:
        for digest in found:
            click.echo(f"{digest.title}\n{digest.body}\n")
    else:
        send(destinations, found)
    told = f"{_count(len(found), 'digest')} ({_count(sum(len(d.changes) for d in found), 'change')})"
    click.echo(f"would send {told}" if dry_run else f"sent {told} to {_count(len(destinations), 'destination')}", err=True)
