"""A real notebook in a real Jupyter kernel runs a pipeline and shows its visualizations."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from parts import require_module

nbformat = require_module("nbformat", "test")
nbclient = require_module("nbclient", "test")
require_module("ipykernel", "test")
require_module("numpy", "numpy")
require_module("pandas", "pandas")

import lineagelog.domain  # noqa: E402

KERNEL = "lineagelog-test"

PIPELINE_CELL = """
from typing import Annotated
import numpy as np
import pandas as pd
from lineagelog.api import Client, pipeline, step

@step
def make() -> tuple[
    Annotated[str, "report"],
    Annotated[dict, "stats"],
    Annotated[np.ndarray, "grid"],
    Annotated[pd.DataFrame, "frame"],
]:
    frame = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    return "# Report\\n\\nAll *good*.", {"rows": 3}, np.arange(12.0).reshape(3, 4), frame

@pipeline
def notebook_pipeline() -> None:
    make()

notebook_pipeline.run(database_url=DB, artifact_store=STORE)
client = Client(DB, STORE)
"""


@pytest.fixture
def kernel_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A kernelspec for this interpreter, with lineagelog importable, found only by this test."""
    # The folder holding the `lineagelog` package as imported here (symlinks not followed).
    package_parent = Path(os.path.abspath(lineagelog.domain.__file__)).parents[2]
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    python_path = os.pathsep.join(
        p for p in (str(package_parent), os.environ.get("PYTHONPATH", "")) if p
    )
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "lineagelog test",
                "language": "python",
                "env": {"PYTHONPATH": python_path},
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    yield KERNEL


def _run_notebook(tmp_path: Path, kernel: str, cells: list[str]) -> object:
    db, store = f"sqlite:///{tmp_path / 'lineage.db'}", str(tmp_path / "artifacts")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(f"DB, STORE = {db!r}, {store!r}")] + [
        nbformat.v4.new_code_cell(source) for source in cells
    ]
    client = nbclient.NotebookClient(
        notebook, kernel_name=kernel, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    return notebook


def _mime_types(cell: object) -> set[str]:
    return {
        mime
        for output in cell["outputs"]  # type: ignore[index]
        if output["output_type"] in ("display_data", "execute_result")
        for mime in output["data"]
    }


def test_visualize_in_a_jupyter_kernel_displays_each_visualization_with_its_mime_type(
    tmp_path: Path, kernel_name: str
) -> None:
    cells = [
        PIPELINE_CELL,
        'client.get_artifact_version("report").visualize()',
        'client.get_artifact_version("stats").visualize()',
        'client.get_artifact_version("grid").visualize()',
        'client.get_artifact_version("frame").visualize()',
    ]

    notebook = _run_notebook(tmp_path, kernel_name, cells)

    report, stats, grid, frame = notebook.cells[2:]  # type: ignore[attr-defined]
    assert "text/markdown" in _mime_types(report)
    assert "application/json" in _mime_types(stats)
    assert "image/png" in _mime_types(grid)
    assert "text/html" in _mime_types(frame)
    frame_html = "".join(o["data"].get("text/html", "") for o in frame["outputs"] if "data" in o)
    assert "<table" in frame_html and "<td>3</td>" in frame_html
    assert all(o["output_type"] != "error" for c in notebook.cells for o in c["outputs"])  # type: ignore[attr-defined]
