from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(
    args: list[str], home: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LINEAGELOG_HOME": str(home)}
    env.pop("LINEAGELOG_DATABASE_URL", None)
    env.pop("LINEAGELOG_ARTIFACT_STORE", None)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=home, timeout=timeout
    )


def test_readme_example_runs_in_a_fresh_process(tmp_path: Path):
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.S)
    assert code is not None, "README has no python example"
    script = tmp_path / "example.py"
    script.write_text(code.group(1))

    result = run_python([str(script)], tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "lineage.db").exists()
    assert any((tmp_path / "artifacts" / "numbers").iterdir())


def test_readme_starts_with_the_two_setup_commands():
    first_lines = (ROOT / "README.md").read_text().splitlines()[:8]

    commands = [line for line in first_lines if line.startswith("`python3 -m venv")]

    assert len(commands) == 2
    assert "lineagelog demo" in commands[0]
    assert "pytest" in commands[1]
    assert commands[1].strip("`") in (ROOT / ".ci" / "run").read_text()


def test_demo_runs_twice_and_the_second_run_is_served_from_cache(tmp_path: Path):
    result = run_python(["-m", "lineagelog.api.cli", "demo"], tmp_path, timeout=300)

    assert result.returncode == 0, result.stderr
    second = result.stdout.split("Second run", 1)[1]
    assert "served from cache" in second
    assert str(tmp_path / "lineage.db") in result.stdout
    assert str(tmp_path / "artifacts") in result.stdout
