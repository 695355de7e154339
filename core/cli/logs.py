"""Logs for schedulers, and the progress a person watching a long run sees.

Two audiences, two channels.  A scheduler (cron, systemd, Airflow) reads the
``tierkit`` logger: ``--log-level info`` logs every stage (reading, aggregating
orders, evaluating, writing), ``--log-json`` makes each record one JSON object on a
line of stderr, and a user error is then logged too, so that a failed night is one
record with its message.  A person at a terminal sees a progress display on stderr
(rich), which stays out of the way of pipes and logs: it is hidden when stderr is not
a terminal, and with ``--quiet``.  Locations in both are shown with passwords masked.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Iterable, Iterator

import click

LOGGER = logging.getLogger("tierkit")
_as_json = False
LEVELS = ("debug", "info", "warning", "error")
UPDATE_EVERY = 1000  # rows between progress bar updates: updating per row costs more than writing it


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds")
        return json.dumps({"time": stamp, "level": record.levelname.lower(), "logger": record.name,
                           "message": record.getMessage()}, ensure_ascii=False)


def configure(level: str | None, as_json: bool) -> None:
    """Log ``tierkit`` records at ``level`` and above to stderr (nothing below warnings
    unless asked), as text or JSON lines; called once per command line."""
    for handler in list(LOGGER.handlers):
        LOGGER.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter("tierkit: %(levelname)s: %(message)s"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel((level or "warning").upper())
    LOGGER.propagate = False
    global _as_json
    _as_json = as_json


def logs_json() -> bool:
    """Whether records go out as JSON (then errors are logged as records too)."""
    return _as_json


class Progress:
    """Stage messages and progress bars for a long run.

    Each stage is logged at ``info``.  On a terminal it is also shown live (a spinner
    per stage, a bar where the count is known, e.g. results written); ``show=True``
    prints stage lines even when stderr is not a terminal, ``show=False`` or ``quiet``
    hides them.  Use as a context manager, so the live display ends with the run.
    """

    def __init__(self, show: bool | None = None, quiet: bool = False):
        terminal = sys.stderr.isatty()
        self.shown = not quiet and (terminal if show is None else show)
        self.started = time.perf_counter()
        self.live = None
        self.task = None
        if self.shown and terminal:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bars, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.live = Bars(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self.live.start()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_exc) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def __call__(self, message: str) -> None:
        LOGGER.info(message)
        if self.live is not None:
            self._next_task(message, None)
        elif self.shown:
            click.echo(f"[{time.perf_counter() - self.started:6.1f}s] {message}", err=True)

    def track(self, items: Iterable, total: int, description: str) -> Iterator:
        """``items`` as they are consumed, counted on a bar of ``total`` on a terminal."""
        if self.live is None:
            yield from items
            return
        self._next_task(description, total)
        for done, item in enumerate(items, start=1):
            if done % UPDATE_EVERY == 0:
                self.live.update(self.task, completed=done)
            yield item
        self.live.update(self.task, completed=total)

    def _next_task(self, description: str, total: int | None) -> None:
        """One line on screen: each stage takes over the line of the one before."""
        if self.task is None:
            self.task = self.live.add_task(description, total=total)
        else:
            self.live.reset(self.task, description=description, total=total)
