"""One user-error type, with a position, converted to a one-line message at the CLI.

Every error a user can cause (a broken ruleset, an unreadable file, a bad row) is a
:class:`TierkitError` carrying where it happened, so the CLI prints
``file:line:col: message`` and never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EXIT_OK = 0
EXIT_INVALID = 1  # the ruleset (or a test of it) failed validation
EXIT_USAGE = 2  # bad command line, unreadable or unusable input


# user:password@ in a URL anywhere in a text, and password=... parameters
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^\s]*@")
_PASSWORD_SETTING = re.compile(r"(\bpassword\s*=\s*)('[^']*'|\"[^\"]*\"|[^\s&;]+)", re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """A message as it may be shown: the password of any URL (``scheme://user:secret@``)
    or ``password=`` setting in it replaced by ``***`` (drivers and plugins quote them)."""
    return _PASSWORD_SETTING.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", text))


def os_reason(error: Exception) -> str:
    """An operating-system error as a reason: ``No such file or directory``."""
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error)


@dataclass(frozen=True)
class Position:
    """Where something stands in a source file; line and column are 1-based."""

    file: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)

    def shifted(self, columns: int) -> Position:
        """The position ``columns`` characters further along the same line."""
        if self.col is None:
            return self
        return Position(self.file, self.line, self.col + columns)


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a ruleset: an ``error`` stops the run, a ``warning`` does not."""

    message: str
    position: Position | None = None
    severity: str = "error"
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position else ""
        label = "" if self.severity == "error" else f"{self.severity}: "
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{label}{self.message}{hint}"


class TierkitError(Exception):
    """A problem the user can fix; ``exit_code`` says how the CLI should end."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, position: Position | None = None, hint: str | None = None):
        self.diagnostic = Diagnostic(message, position, "error", hint)
        super().__init__(str(self.diagnostic))


class RulesetError(TierkitError):
    """A ruleset cannot be used; carries every error found, not only the first."""

    exit_code = EXIT_INVALID

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = [d for d in diagnostics if d.severity == "error"]
        self.warnings = [d for d in diagnostics if d.severity != "error"]
        first = self.diagnostics[0]
        super().__init__(first.message, first.position, first.hint)

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)


class InputError(TierkitError):
    """An input file cannot be read at all (as opposed to one bad row in it)."""

    exit_code = EXIT_USAGE
