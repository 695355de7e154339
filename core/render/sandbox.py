"""A Jinja sandbox that limits work as well as attributes.

Templates come with rulesets, so they are untrusted.  Jinja's sandbox keeps them away
from Python internals but lets one line take the machine: ``{{ 'a' * 500000000 }}``,
``{{ 10 ** 20000000 }}``, nested loops over ``range(100000)``.  Here every render gets
a budget, and crossing it is a :class:`WorkLimit` (the renderer names the template and
line):

- a string, list or markup an operator (``*``, ``+``, ``%``, ``~``), a filter or a call
  builds holds at most :data:`MAX_LENGTH` characters or items, and is refused before it
  is built where its size can be told in advance (``*``, ``%`` and format widths,
  integer arguments of filters and calls, ``replace``);
- an integer has at most :data:`MAX_INT_DIGITS` digits (``**`` and ``*`` are refused
  before computing a larger one);
- ``range()`` gives at most :data:`MAX_RANGE` numbers;
- a render takes at most :data:`RENDER_SECONDS` seconds and writes at most
  :data:`RENDER_CHARACTERS` characters, plus :data:`ACCOUNT_SECONDS` and
  :data:`ACCOUNT_CHARACTERS` per account the document shows (a booklet of many briefs
  or a long call list gets more, in proportion to the data, not to the template).
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Iterator
from typing import Any

from jinja2.compiler import CodeGenerator
from jinja2.sandbox import SandboxedEnvironment

from tierkit.errors import TierkitError

MAX_LENGTH = 1_000_000
MAX_INT_DIGITS = 4_300  # as Python's own int-to-text conversion
MAX_RANGE = 10_000
RENDER_SECONDS = 10.0
RENDER_CHARACTERS = 5_000_000
ACCOUNT_SECONDS = 0.5  # a brief page takes some milliseconds
ACCOUNT_CHARACTERS = 100_000  # a brief page is some 10,000 characters

_MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10))

# Format widths or precisions of a million or more, as written ('%0999999999d',
# '{:>999999999}') and as taken from the values ('%*d', '{:>{}}'); per format style.
_PERCENT = (re.compile(r"%[-#0 +]*(?:\d{7,}|\d*\.\d{7,})"), re.compile(r"%[-#0 +]*\d*\.?\*"))
_BRACES = (re.compile(r"\{[^{}]*:[^{}]*\d{7,}"), re.compile(r"\{[^{}]*:[^{}]*\{"))
_SIZED = (str, list, tuple, dict, set, frozenset)


class WorkLimit(TierkitError):
    """A template (or a report's ``--value`` expression) asked for more work than a render
    may do; the renderer adds the template and line."""


class _Concatenating(CodeGenerator):
    """Jinja's code generator, with ``~`` checked as the other operators are."""

    def visit_Concat(self, node, frame) -> None:
        self.write("environment.bounded(")
        super().visit_Concat(node, frame)
        self.write(")")


class LimitedSandbox(SandboxedEnvironment):
    """A :class:`SandboxedEnvironment` whose operators, calls, filters, ranges and
    output are bounded; :meth:`budget` starts the budget of one render."""

    code_generator_class = _Concatenating
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options):
        super().__init__(**options)
        self.globals["range"] = self.range
        self.concat = self._concat
        self._seconds = self._characters = self._deadline = self._characters_left = math.inf  # until a render starts

    def budget(self, accounts: int) -> None:
        """Give the next render its time and output, for a document showing ``accounts``."""
        self._seconds = RENDER_SECONDS + ACCOUNT_SECONDS * accounts
        self._characters = RENDER_CHARACTERS + ACCOUNT_CHARACTERS * accounts
        self._deadline = time.monotonic() + self._seconds
        self._characters_left = self._characters

    def spend(self) -> None:
        if time.monotonic() > self._deadline:
            raise WorkLimit(f"the page takes too long to render (limit {self._seconds:g} s)")

    def bounded(self, value: Any) -> Any:
        """``value`` if it is small enough to keep, else a :class:`WorkLimit`."""
        self.spend()
        if isinstance(value, _SIZED) and len(value) > MAX_LENGTH:
            raise WorkLimit(f"a value of {len(value):,} characters or items is too long (limit {MAX_LENGTH:,})")
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _MAX_INT_BITS:
            raise WorkLimit(f"a number is too large (limit {MAX_INT_DIGITS:,} digits)")
        return value

    # -- what templates do -----------------------------------------------------------

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        self.spend()
        _check_operands(operator, left, right)
        return self.bounded(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's own signature)
        __self.spend()
        method = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
        if isinstance(getattr(method, "__self__", None), str):  # 'x'.center(…), '{:>9999999}'.format(…)
            _check_string_method(method.__self__, method.__name__, args, kwargs)
        return __self.bounded(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.spend()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.spend()
        return super().getitem(obj, argument)

    def range(self, *args: int) -> BoundedRange:
        return BoundedRange(self, range(*args))

    def bound_filters(self) -> None:
        """Wrap every filter so that its arguments and result are bounded; call once all
        filters are registered."""
        self.filters = {name: self._bounded_filter(name, function) for name, function in self.filters.items()}

    def _bounded_filter(self, name: str, function):
        check = _FILTER_CHECKS.get(name)
        value_at = 1 if getattr(function, "jinja_pass_arg", None) else 0  # after the context Jinja passes

        @functools.wraps(function)  # keeps Jinja's pass_context and the like
        def run(*args, **kwargs):
            self.spend()
            if check is not None and len(args) > value_at:
                check(args[value_at], args[value_at + 1 :], kwargs)
            return self.bounded(function(*args, **kwargs))

        return run

    def _concat(self, chunks: Iterator[str]) -> str:
        """Join a render's output, watching its time and size as it is written; a limit
        is raised inside the template, at the line that wrote past it."""
        kept = []
        for count, chunk in enumerate(chunks):
            self._characters_left -= len(chunk)
            try:
                if self._characters_left < 0:
                    raise WorkLimit(f"the page is too long (limit {self._characters:,} characters)")
                if count % 1024 == 0:
                    self.spend()
            except WorkLimit as limit:
                chunks.throw(limit)
            kept.append(chunk)
        return "".join(kept)


class BoundedRange:
    """``range()`` in templates: at most :data:`MAX_RANGE` numbers, each step spending time."""

    def __init__(self, env: LimitedSandbox, numbers: range):
        try:
            size = f"{len(numbers):,}" if len(numbers) > MAX_RANGE else None
        except OverflowError:  # more numbers than len() can count
            size = "too many"
        if size is not None:
            raise WorkLimit(f"range() of {size} numbers is too long (limit {MAX_RANGE:,})")
        self.env, self.numbers = env, numbers

    def __len__(self) -> int:
        return len(self.numbers)

    def __iter__(self) -> Iterator[int]:
        for number in self.numbers:
            self.env.spend()
            yield number


def _check_operands(operator: str, left: Any, right: Any) -> None:
    """Refuse, before computing it, a result that would be too large."""
    if operator == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, _SIZED) and isinstance(times, int) and len(sequence) * times > MAX_LENGTH:
                raise WorkLimit(f"repeating a value {times:,} times makes it too long (limit {MAX_LENGTH:,})")
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > _MAX_INT_BITS:
            raise WorkLimit(f"a number is too large (limit {MAX_INT_DIGITS:,} digits)")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        if right * math.log10(abs(left)) > MAX_INT_DIGITS:
            raise WorkLimit(f"a number is too large (limit {MAX_INT_DIGITS:,} digits)")
    elif operator == "%":
        _check_widths(left, right, {}, _PERCENT)


def _check_sizes(args: tuple, kwargs: dict) -> None:
    """Integer arguments that are sizes (``center``, ``indent``, ``slice``) are at most
    :data:`MAX_LENGTH`."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_LENGTH:
            raise WorkLimit(f"an argument of {value:,} is too large (limit {MAX_LENGTH:,})")


def _check_widths(text: Any, args: Any, kwargs: dict, style: tuple[re.Pattern, re.Pattern]) -> None:
    """A format string's widths: as written in it, and as taken from ``args``/``kwargs``."""
    written, taken = style
    if not isinstance(text, str):
        return
    if written.search(text):
        raise WorkLimit(f"a format width is too large (limit {MAX_LENGTH:,})")
    if taken.search(text):
        _check_sizes(args if isinstance(args, tuple) else (args,), kwargs)


def _check_string_method(text: str, name: str, args: tuple, kwargs: dict) -> None:
    """``'x'.center(n)`` and the like take sizes; ``'{:>{}}'.format(…)`` may take a width."""
    if name in ("format", "format_map"):
        _check_widths(text, args, kwargs, _BRACES)
    else:
        _check_sizes(args, kwargs)


def _check_replace(value: Any, args: tuple, kwargs: dict) -> None:
    old = args[0] if args else kwargs.get("old")
    new = args[1] if len(args) > 1 else kwargs.get("new")
    if isinstance(value, str) and isinstance(old, str) and isinstance(new, str) and old:
        if len(value) + value.count(old) * (len(new) - len(old)) > MAX_LENGTH:
            raise WorkLimit(f"replace() would make a text too long (limit {MAX_LENGTH:,})")


# Jinja's filters whose result's size can be told from their arguments, before it is built.
_FILTER_CHECKS = {
    **dict.fromkeys(("center", "indent", "wordwrap", "truncate", "slice", "batch"), lambda value, a, k: _check_sizes(a, k)),
    "format": lambda value, a, k: _check_widths(value, a, k, _PERCENT),
    "replace": _check_replace,
}
