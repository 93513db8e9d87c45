"""What a fresh process pays for: the modules a step/pipeline script loads, and nothing else.

Each check runs in a new interpreter (``sys.modules`` of the test process holds
everything the suite imported) and reads back the modules it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from lineagelog.api.environment import installed_version

HEAVY_OPTIONAL = (
    # libraries a plain pipeline never needs
    "typer",
    "click",
    "rich",
    "networkx",
    "graphviz",
    "distributed",
    "dask",
    "cloudpickle",
    "openlineage",
    "jsonschema",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "numpy",
    "pandas",
    "pyarrow",
    "sklearn",
    "psycopg",
    "s3fs",
    "IPython",
    # our own modules behind them: the CLI, the server, Dask, OpenLineage, diffs, lineage
    "lineagelog.api.cli",
    "lineagelog.api.server",
    "lineagelog.api.cluster_run",
    "lineagelog.api.diffing",
    "lineagelog.api.openlineage_routes",
    "lineagelog.adapters.executors.dask",
    "lineagelog.adapters.openlineage",
    "lineagelog.adapters.graphviz",
    "lineagelog.adapters.materializers.numpy",
    "lineagelog.adapters.materializers.pandas",
    "lineagelog.adapters.materializers.sklearn",
    "lineagelog.adapters.materializers.pydantic",
    "lineagelog.projections.lineage_queries",
    "lineagelog.projections.view_diff",
    "lineagelog.projections.diagram",
    "lineagelog.domain.comparison",
    "lineagelog.domain.lifecycle",
)

ONE_STEP = """
import sys
from lineagelog.api import pipeline, step, configure
configure(home=sys.argv[1])

@step
def one(x: int = 1) -> int:
    return x + 1

@pipeline
def single() -> None:
    one()

run = single()
assert run.status == "completed", run.status
"""

REPORT = """
import json, sys
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(code: str, *argv: str) -> set[str]:
    """The modules a new interpreter has loaded after running ``code``."""
    result = subprocess.run(
        [sys.executable, "-c", code + REPORT, *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(
        m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY_OPTIONAL)
    )


def test_importing_step_and_pipeline_loads_no_heavy_optional_module():
    modules = loaded_modules("from lineagelog.api import step, pipeline")

    assert heavy(modules) == []
    assert "lineagelog.api.client" not in modules
    assert "sqlalchemy" not in modules


def test_the_public_names_load_when_asked_for():
    modules = loaded_modules(
        "import lineagelog.api as api\n"
        "assert api.Client.__module__ == 'lineagelog.api.client'\n"
        "assert api.Run.__name__ == 'Run' and api.fileio.__name__ == 'lineagelog.api.fileio'\n"
    )

    assert {"lineagelog.api.client", "lineagelog.api.models"} <= modules


def test_an_unknown_public_name_is_an_attribute_error_naming_it():
    import lineagelog.api

    with pytest.raises(AttributeError, match=r"'lineagelog\.api' has no attribute 'Clinet'"):
        lineagelog.api.Clinet  # noqa: B018


def test_a_one_step_pipeline_loads_no_heavy_optional_module_nor_pydantic(tmp_path: Path):
    modules = loaded_modules(ONE_STEP, str(tmp_path / "home"))

    assert "lineagelog.api.runner" in modules  # it did run, through the usual path
    assert heavy(modules) == []
    assert "pydantic" not in modules


@pytest.mark.parametrize("distribution", ["lineagelog", "SQLAlchemy", "fsspec", "eventsourcing"])
def test_installed_version_reads_what_importlib_metadata_reads(distribution: str):
    assert installed_version(distribution) == metadata.version(distribution)


def test_installed_version_of_a_missing_distribution_says_it_is_not_found():
    with pytest.raises(metadata.PackageNotFoundError):
        installed_version("lineagelog-no-such-distribution")


def test_a_worker_reading_an_open_log_loads_no_sqlalchemy(tmp_path: Path):
    # The export's and the audit's hashing workers, and the rebuild's decoding worker,
    # each a process of their own: SQLAlchemy would add about 20 MiB to every one.
    from lineagelog.adapters.event_store import EventStore

    url = f"sqlite:///{tmp_path / 'log.db'}"
    EventStore(url).close()  # the job's own process opens (and claims) the log first
    modules = loaded_modules(
        "import sys\n"
        "from lineagelog.adapters import decode_pool, export, hash_pool\n"
        "hash_pool._open_worker_log(sys.argv[1])\n"
        "assert hash_pool._work((0, 10, hash_pool.KEEP_NOTHING, export.export_line)).text == ''\n"
        "assert decode_pool._decode((0, 10)) == []\n",
        url,
    )

    assert "lineagelog.adapters.hash_pool" in modules
    assert not any(m == "sqlalchemy" or m.startswith("sqlalchemy.") for m in modules)
