"""The command line's runs of the bundled samples, shared by the tests of this folder."""

from __future__ import annotations

import pytest

from tests.engine_harness import SampleRuns


@pytest.fixture(scope="session")
def sample_runs(tmp_path_factory) -> SampleRuns:
    """``sample_runs(name, engine)``: one ``tierkit evaluate`` of a bundled sample per engine
    in this process (the Spark tests all run in one worker, so each Spark run happens once)."""
    return SampleRuns(tmp_path_factory.mktemp("samples"))
