"""A plugin that fails, or answers with the wrong type, is named in the one-line error:
the plugin and the hook, or the function."""

from __future__ import annotations

import pytest

from tests.render.test_render import AS_OF, write_small_case

pytestmark = pytest.mark.slow

HOOKS = {
    "template-dirs-raise": ("@hookimpl\ndef tierkit_template_dirs():\n    raise RuntimeError('boom')\n",
                            "tierkit: plugin '{plugin}' failed in tierkit_template_dirs: RuntimeError: boom\n"),
    "template-dirs-wrong": ("@hookimpl\ndef tierkit_template_dirs():\n    return 5\n",
                            "tierkit: plugin '{plugin}': tierkit_template_dirs returned 5, expected a list of folders\n"),
    "brief-context-raise": ("@hookimpl\ndef tierkit_brief_context(customer):\n    return {'x': customer['nope']}\n",
                            "tierkit: plugin '{plugin}' failed in tierkit_brief_context: KeyError: 'nope'\n"),
}


@pytest.mark.parametrize("code, message", HOOKS.values(), ids=HOOKS.keys())
def test_a_failing_hook_is_named_with_its_plugin(tierkit, tmp_path, code, message):
    plugin = tmp_path / "bad.py"
    plugin.write_text("from tierkit.hookspecs import hookimpl\n\n" + code, encoding="utf-8")
    ruleset, customers = write_small_case(tmp_path / "case")
    result = tierkit("--plugin", plugin, "brief", ruleset, customers, "--customer", "K01", "-o", tmp_path / "o.html",
                     "--as-of", AS_OF)
    assert result.returncode == 2
    assert result.stderr == message.format(plugin=plugin)


FUNCTION_PLUGIN = """\
from tierkit.hookspecs import hookimpl
from tierkit.registry import Function


@hookimpl
def tierkit_functions(register):
    register(Function("shout", lambda text: 42, ("string",), "string", "Upper-case text, loudly."))
"""

RULESET = """\
tierkit: 1
name: loud
version: "1"
fields:
  id: {type: string, required: true}
  name: {type: string}
schemes:
  - id: loud
    kind: rules
    label: Loud
    rules:
      - {id: loud, when: "WHEN", label: Loud}
    default: {id: quiet, label: Quiet}
"""


def test_a_function_returning_another_type_is_named_for_each_row(tierkit, tmp_path):
    plugin = tmp_path / "shout.py"
    plugin.write_text(FUNCTION_PLUGIN, encoding="utf-8")
    ruleset = tmp_path / "loud.yaml"
    ruleset.write_text(RULESET.replace("WHEN", "shout(name) == 'HI'"), encoding="utf-8")
    customers = tmp_path / "c.csv"
    customers.write_text("id,name\nA,hi\n", encoding="utf-8")
    result = tierkit("--plugin", plugin, "evaluate", ruleset, customers)
    assert result.returncode == 0
    assert "evaluation failed: function shout() returned int 42, not a string" in result.stderr


def test_a_function_returning_another_type_on_constants_is_a_ruleset_error(tierkit, tmp_path):
    plugin = tmp_path / "shout.py"
    plugin.write_text(FUNCTION_PLUGIN, encoding="utf-8")
    ruleset = tmp_path / "loud.yaml"
    ruleset.write_text(RULESET.replace("WHEN", "shout('hi') == 'HI'"), encoding="utf-8")
    result = tierkit("--plugin", plugin, "validate", ruleset)
    assert result.returncode == 1
    assert "shout('hi') fails: function shout() returned int 42, not a string" in result.stdout
