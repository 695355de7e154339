"""docs/security.md states every limit with the number the code uses."""

from __future__ import annotations

import pytest

from tierkit.render import sandbox as render_sandbox

from tierkit.ruleset import yamlload

from tests.conftest import ROOT

LIMITS = {
    "yamlload.MAX_FILE_BYTES": f"{yamlload.MAX_FILE_BYTES:,} bytes",
    "yamlload.MAX_VALUES": f"{yamlload.MAX_VALUES:,} keys and values",
    "yamlload.MAX_DEPTH": f"{yamlload.MAX_DEPTH} levels",
    "yamlload.MAX_ALIAS_VALUES": f"too many aliases (limit {yamlload.MAX_ALIAS_VALUES})",
    "render_sandbox.MAX_LENGTH": f"{render_sandbox.MAX_LENGTH:,} characters or items",
    "render_sandbox.MAX_INT_DIGITS": f"{render_sandbox.MAX_INT_DIGITS:,} digits",
    "render_sandbox.MAX_RANGE": f"| `range()` | {render_sandbox.MAX_RANGE:,} numbers |",
    "render_sandbox.RENDER_SECONDS": f"{render_sandbox.RENDER_SECONDS:g} s",
    "render_sandbox.ACCOUNT_SECONDS": f"{render_sandbox.ACCOUNT_SECONDS:g} s per account",
    "render_sandbox.RENDER_CHARACTERS": f"{render_sandbox.RENDER_CHARACTERS:,} characters",
    "render_sandbox.ACCOUNT_CHARACTERS": f"{render_sandbox.ACCOUNT_CHARACTERS:,} characters per account",
}


@pytest.mark.parametrize("limit, text", LIMITS.items(), ids=LIMITS.keys())
def test_the_limit_is_documented_with_its_number(limit, text):
    assert text in (ROOT / "docs" / "security.md").read_text(encoding="utf-8"), limit
