"""Parameters on the command line: shown as Python writes them, their types kept apart."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from cli import run_cli, run_python

PIPELINE = textwrap.dedent(
    """
    from lineagelog.api import pipeline, step

    @step
    def load(shape) -> int:
        return len(shape)

    @pipeline
    def shaped(shape) -> None:
        load(shape=shape)

    shaped(shape=[2, 3])
    shaped(shape=(2, 3))
    """
)


def test_cache_explain_tells_a_tuple_parameter_from_a_list(tmp_path: Path) -> None:
    script = tmp_path / "make.py"
    script.write_text(PIPELINE)
    settings = {"LINEAGELOG_HOME": str(tmp_path)}
    assert run_python(str(script), settings=settings, cwd=tmp_path).returncode == 0
    decisions = run_cli("cache", "list", "--json", settings=settings, cwd=tmp_path)
    newest = json.loads(decisions.stdout)[0]

    explained = run_cli("cache", "explain", newest["step_run_id"], settings=settings, cwd=tmp_path)

    assert explained.returncode == 0, explained.stderr
    assert "parameter `shape` changed [2, 3] -> (2, 3)" in explained.stdout
    row = next(line for line in explained.stdout.splitlines() if "parameter shape" in line)
    assert "(2, 3)" in row and "[2, 3]" in row and "differs" in row
