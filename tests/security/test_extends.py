"""``extends`` reaches only rulesets: a ``.yaml``/``.yml`` file in the folder of the
ruleset named first, or in a bundled (plugin-declared) ruleset folder; it never makes
tierkit read, probe or echo any other file.  ``overrides:`` likewise names only a YAML
file in the ruleset's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierkit.errors import RulesetError
from tierkit.ruleset.load import load_ruleset

from tests.render.test_render import SMALL_RULESET, write_small_case

BASE = "tierkit: 1\nname: base\nversion: '1'\nfields: {}\nschemes: []\n"
SECRET = "secret_key: do-not-print-me\n"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


@pytest.mark.slow
@pytest.mark.parametrize("target", ["/etc/shadow", "/etc/passwd", "/dev/zero"])
def test_a_system_file_is_refused_in_one_line_without_its_content(tierkit, tmp_path, target):
    ruleset = write(tmp_path, "r.yaml", f"name: r\nextends: {target}\n")
    result = tierkit("validate", ruleset, timeout=60)
    assert result.returncode == 1
    assert result.stdout == (
        f"{ruleset}:2:10: {target} is outside the ruleset's folder and the bundled ruleset folders"
        " (copy the base beside the ruleset, or have a plugin declare its folder with tierkit_ruleset_dirs)\n"
    )
    assert "root:" not in result.stdout + result.stderr and "unknown key" not in result.stdout


@pytest.mark.parametrize("reference", ["../outside/secret.yaml", "{outside}/secret.yaml", "{outside}/missing.yaml", "~/secret.yaml"])
def test_paths_out_of_the_folder_are_refused_whether_or_not_they_exist(tmp_path, reference):
    outside = tmp_path / "outside"
    write(outside, "secret.yaml", SECRET)
    ruleset = write(tmp_path / "rulesets", "r.yaml", f"name: r\nextends: {reference.format(outside=outside)}\n")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(ruleset, [])
    assert "is outside the ruleset's folder" in str(caught.value)
    assert "do-not-print-me" not in str(caught.value)


def test_a_link_out_of_the_folder_is_refused(tmp_path):
    secret = write(tmp_path / "outside", "secret.yaml", SECRET)
    (tmp_path / "rulesets").mkdir()
    (tmp_path / "rulesets" / "base.yaml").symlink_to(secret)
    ruleset = write(tmp_path / "rulesets", "r.yaml", "name: r\nextends: base.yaml\n")
    with pytest.raises(RulesetError, match="base.yaml is outside the ruleset's folder"):
        load_ruleset(ruleset, [])


def test_a_file_that_is_no_ruleset_is_refused_without_its_content(tmp_path):
    write(tmp_path, "customers.csv", "id,name\nsecret_key: do-not-print-me\n")
    ruleset = write(tmp_path, "r.yaml", "name: r\nextends: customers.csv\n")
    with pytest.raises(RulesetError) as caught:
        load_ruleset(ruleset, [])
    assert str(caught.value) == f"{ruleset}:2:10: {tmp_path / 'customers.csv'} is not a ruleset file (.yaml or .yml)"


def test_a_chain_stays_inside_the_folder_of_the_ruleset_named_first(tmp_path):
    write(tmp_path / "rulesets" / "common", "base.yaml", BASE)
    write(tmp_path / "rulesets" / "common", "middle.yaml", "extends: base.yaml\nname: middle\n")
    ruleset = write(tmp_path / "rulesets", "r.yaml", "extends: common/middle.yaml\nname: r\n")
    assert load_ruleset(ruleset, []).name == "r"
    write(tmp_path / "rulesets" / "common", "escaping.yaml", "extends: ../../outside/secret.yaml\n")
    write(tmp_path / "outside", "secret.yaml", SECRET)
    with pytest.raises(RulesetError, match="is outside the ruleset's folder"):
        load_ruleset(write(tmp_path / "rulesets", "s.yaml", "extends: common/escaping.yaml\n"), [])


def test_bundled_and_plugin_declared_folders_are_reachable_by_name_and_by_path(tmp_path, registry):
    declared = tmp_path / "plugin_rulesets"
    base = write(declared, "shared.yaml", BASE)
    by_name = write(tmp_path / "rulesets", "a.yaml", "extends: shared\nname: a\n")
    by_path = write(tmp_path / "rulesets", "b.yaml", f"extends: {base}\nname: b\n")
    assert load_ruleset(by_name, [declared]).name == "a"
    assert load_ruleset(by_path, [declared]).name == "b"
    assert load_ruleset("b2b-manufacturing", registry.ruleset_dirs).name == "b2b-manufacturing"


@pytest.mark.slow
@pytest.mark.parametrize("target", ["/etc/passwd", "../outside/secret.yaml", "notes.txt"])
def test_an_overrides_file_outside_the_folder_or_not_yaml_is_refused(tierkit, tmp_path, target):
    write(tmp_path / "outside", "secret.yaml", "- secret_key: do-not-print-me\n")
    ruleset, _customers = write_small_case(tmp_path / "rulesets")
    write(tmp_path / "rulesets", "notes.txt", "- secret_key: do-not-print-me\n")
    ruleset.write_text(SMALL_RULESET + f"overrides: {target}\n", encoding="utf-8")
    result = tierkit("validate", ruleset)
    assert result.returncode == 1
    path = Path(target) if target.startswith("/") else tmp_path / "rulesets" / target
    line = SMALL_RULESET.count("\n") + 1
    assert result.stdout == f"{ruleset}:{line}:12: overrides: {path} is not a .yaml file in the ruleset's folder\n"
    assert "do-not-print-me" not in result.stdout + result.stderr and "root:" not in result.stdout
