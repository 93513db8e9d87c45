"""Text from the log reaches the terminal escaped: a value cannot run terminal escape sequences."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from cli import run_cli, run_python

PIPELINE = textwrap.dedent(
    """
    from lineagelog.api import pipeline, step

    @step
    def load(label: str) -> int:
        return 1

    @step(enable_cache=False)
    def check(value: int) -> None:
        raise ValueError("bad row \\x1b[2J\\x1b[31mall fine")

    @pipeline
    def escapes(label: str) -> None:
        check(load(label=label))

    for label in ("a\\x1b]0;title\\x07", "b"):
        try:
            escapes(label=label)
        except Exception:
            pass
    """
)


def test_tables_and_trees_show_control_characters_escaped(tmp_path: Path) -> None:
    script = tmp_path / "make.py"
    script.write_text(PIPELINE)
    settings = {"LINEAGELOG_HOME": str(tmp_path)}
    assert run_python(str(script), settings=settings, cwd=tmp_path).returncode == 0
    runs = json.loads(run_cli("runs", "list", "--json", settings=settings, cwd=tmp_path).stdout)

    shown = [
        run_cli(*args, settings=settings, cwd=tmp_path)
        for args in (
            ("runs", "list"),
            ("runs", "show", runs[0]["id"]),
            ("runs", "show", runs[1]["id"]),
            ("cache", "list"),
            ("lineage", runs[0]["id"], "--downstream"),
        )
    ]

    for result in shown:
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout, result.stdout
    assert "bad row \\x1b[2J\\x1b[31mall fine" in shown[1].stdout
    assert "a\\x1b]0;title\\x07" in shown[2].stdout  # its parameter
    assert "'a\\x1b]0;title\\x07' -> 'b'" in shown[3].stdout  # the miss reason
