"""The wheel installs one package, ``tierkit``, with its data: nothing called ``core``
or ``plugins`` lands in site-packages, the bundled rulesets, schema and templates ship,
and building it raises no setuptools warning."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from .conftest import ROOT


@pytest.mark.slow
def test_the_wheel_holds_tierkit_and_its_package_data(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    for complaint in ("BuildBackendWarning", "would be ignored", "deprecated"):
        assert complaint not in built.stdout + built.stderr
    (wheel,) = tmp_path.glob("tierkit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"tierkit", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}
    assert "tierkit/rulesets/b2b-manufacturing.yaml" in names
    assert "tierkit/ruleset/ruleset-core.schema.json" in names
    assert "tierkit/plugins/weighted.py" in names
    assert "tierkit/templates/kinds/weighted.html" in names and "tierkit/templates/print.css" in names
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "[tierkit]" in entry_points and "tierkit = tierkit.cli:console_main" in entry_points
