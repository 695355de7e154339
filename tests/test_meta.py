"""Meta-tests that keep plugins, hooks, schemas and the core/plugin boundary honest."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import tomllib

import pytest
import yaml

from tierkit import hookspecs
from tierkit.manager import make_plugin_manager
from tierkit.ruleset.schema import check_config_schema, is_builtin, ruleset_schema, undocumented_properties

from .conftest import ROOT

PLUGIN_MODULES = sorted(p.stem for p in (ROOT / "plugins").glob("*.py") if p.stem != "__init__")
HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("tierkit_")]


def test_every_builtin_plugin_module_is_an_entry_point():
    """A module missing from the entry points would silently drop its kinds."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    registered = project["project"]["entry-points"]["tierkit"]
    assert sorted(value.rsplit(".", 1)[1] for value in registered.values()) == PLUGIN_MODULES


def test_the_core_never_imports_a_plugin():
    offenders = [
        path.name
        for path in (ROOT / "core").glob("*.py")
        if re.search(r"^\s*(from|import)\s+(tierkit\.plugins|\.plugins)\b", path.read_text(), re.M)
    ]
    assert offenders == []


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_contract(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert ":returns:" in doc and "Added in" in doc
    for parameter in inspect.signature(getattr(hookspecs, hook)).parameters:
        assert f":param {parameter}:" in doc


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_in_the_plugin_guide(hook):
    assert f"`{hook}(" in (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_builtin_implementation(hook):
    pm = make_plugin_manager()
    assert getattr(pm.hook, hook).get_hookimpls(), f"no built-in plugin implements {hook}"


def test_every_builtin_kind_has_a_valid_config_schema(registry):
    """Checked here once, so that ``tierkit validate`` need not check them on every run."""
    builtin = {name: kind for name, kind in registry.kinds.items() if is_builtin(kind)}
    assert len(builtin) >= 10
    for name, kind in builtin.items():
        check_config_schema(name, kind.config_schema)


def test_every_schema_property_has_a_title_and_description(registry):
    assert undocumented_properties(ruleset_schema(registry.kinds)) == []


def test_every_kind_documents_itself_with_a_yaml_example(registry):
    """Third-party kinds installed here (the example package) are held to it too."""
    for name, kind in registry.kinds.items():
        assert kind.description.splitlines()[0].endswith("."), name
        example = yaml.safe_load(inspect.cleandoc(kind.example))
        assert example[0]["kind"] == name


def test_every_builtin_function_and_kind_is_documented(registry):
    doc = (ROOT / "docs" / "rulesets.md").read_text(encoding="utf-8")
    builtin = set(PLUGIN_MODULES)  # entry-point names of the built-in plugins are their module names
    functions = [name for name in registry.functions if registry.origin("function", name) in builtin]
    kinds = [name for name in registry.kinds if registry.origin("kind", name) in builtin]
    assert "days_since" in functions and "weighted" in kinds
    assert [name for name in functions if f"`{name}" not in doc] == []
    assert [name for name in kinds if f"### `{name}`" not in doc] == []


def test_the_plugin_guide_example_kind_compiles_and_runs(tmp_path):
    """The scheme kind shown in docs/plugins.md is real code that works."""
    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    code = guide.split("## A scheme kind")[1].split("```python\n")[1].split("```")[0]
    (tmp_path / "exposure.py").write_text(code, encoding="utf-8")
    (tmp_path / "r.yaml").write_text(
        "tierkit: 1\nname: t\nversion: '1'\nfields: {id: {type: string, required: true}, limit: {type: number}}\n"
        "schemes: [{id: exposure, kind: exposure, limit: limit}]\n",
        encoding="utf-8",
    )
    (tmp_path / "c.csv").write_text("id,limit\nA,-5\nB,10\nC,\n", encoding="utf-8")
    from tierkit.cli import main

    out = tmp_path / "o.jsonl"
    assert main(["--plugin", str(tmp_path / "exposure.py"), "evaluate", str(tmp_path / "r.yaml"), str(tmp_path / "c.csv"), "-o", str(out)]) == 0
    import json

    labels = {r["id"]: r["outcomes"]["exposure"]["label"] for r in map(json.loads, out.read_text().splitlines()[1:])}
    assert labels == {"A": "over", "B": "fine", "C": "fine"}


# A bare ``tierkit`` from PATH may be a stale install, or absent on a fresh machine.
BARE_COMMAND = re.compile(r"""\[\s*["']tierkit["']\s*,|(which|with_name)\(\s*["']tierkit["']""")


def test_tests_run_the_checkouts_command_never_one_from_path():
    test_files = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "examples").glob("*/tests/*.py")]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in test_files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BARE_COMMAND.search(line)
    ]
    assert offenders == [], "spawn [sys.executable, '-m', 'tierkit', ...] (tests.conftest.TIERKIT) instead"


GROUPED = '''
import os
import pytest


def record(name):
    with open(os.path.join(os.environ["GROUPED_OUT"], name), "w") as handle:
        handle.write(os.environ["PYTEST_XDIST_WORKER"])


@pytest.mark.spark
@pytest.mark.parametrize("n", range(6))
def test_marked(n):
    record(f"spark-{n}")


@pytest.mark.parametrize("engine", [pytest.param("spark", marks=pytest.mark.spark), "duckdb"])
@pytest.mark.parametrize("n", range(6))
def test_parametrized(n, engine):
    record(f"{engine}-param-{n}")
'''


@pytest.mark.slow  # two xdist workers start
def test_spark_tests_run_in_one_xdist_worker(tmp_path):
    """Under ``--dist loadgroup`` (as ``scripts/test`` runs) every Spark test, marked or
    given Spark as a parameter, runs in the same worker: one Spark session starts."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text("from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n")
    (suite / "test_grouped.py").write_text(GROUPED)
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "GROUPED_OUT": str(out), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup",
                           str(suite)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    workers = {path.name: path.read_text() for path in out.iterdir()}
    assert len(workers) == 18
    assert len({worker for name, worker in workers.items() if name.startswith("spark")}) == 1, workers
