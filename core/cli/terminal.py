"""Text for a terminal, where data must not turn into commands.

Customer names and ids, ruleset values and file contents reach the terminal in
messages, ``explain`` and the call list table.  A name holding ``ESC [ 2 J`` (or a
carriage return, or a right-to-left override) would otherwise clear the screen, forge
a line or reorder what is shown.  :func:`printable` writes every control character
but line feed and tab as an escape a reader can see (``\\x1b``); files tierkit writes
keep the data as it is.
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """``str(text)`` with its control characters shown as escapes."""
    return _CONTROL.sub(_escape, str(text))


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
