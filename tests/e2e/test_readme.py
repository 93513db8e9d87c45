from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HAS_DOT = shutil.which("dot") is not None


def run_python(
    args: list[str], home: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LINEAGELOG_HOME": str(home)}
    env.pop("LINEAGELOG_DATABASE_URL", None)
    env.pop("LINEAGELOG_ARTIFACT_STORE", None)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=home, timeout=timeout
    )


def _blocks(readme: str, language: str) -> list[str]:
    """The README's fenced blocks of ``language`` ("" for plain ones), in order."""
    fences = re.findall(r"^```(\w*)\n(.*?)^```$", readme, re.S | re.M)
    return [text for lang, text in fences if lang == language]


_OWN_FILE = re.compile(r"^# (\w+\.py)\b")
"""A python block whose first line names a file is a script of its own, run as that file."""


def _python_examples(readme: str) -> list[str]:
    """The python blocks that continue one walkthrough, in order."""
    return [b for b in _blocks(readme, "python") if not _OWN_FILE.match(b)]


def _own_scripts(readme: str) -> dict[str, str]:
    """The python blocks that are scripts of their own, by the file name they give."""
    found = {}
    for block in _blocks(readme, "python"):
        named = _OWN_FILE.match(block)
        if named:
            found[named.group(1)] = block
    return found


def _commands(readme: str) -> list[str]:
    """The ``lineagelog`` commands of the README's command blocks that hold no placeholder.

    Two commands may share a line (a column each); a placeholder is a word in
    capitals (RUN, FILE) or a ``[bracketed]`` option.
    """
    commands = []
    for block in _blocks(readme, ""):
        for line in block.splitlines():
            for part in re.split(r"\s{2,}(?=lineagelog )", line.split("  #")[0].strip()):
                if part.startswith("lineagelog ") and not re.search(r"\[|\b[A-Z_]{2,}\b", part):
                    commands.append(part)
    return commands


def test_readme_examples_run_as_written_in_order_in_a_fresh_process(tmp_path: Path):
    readme = (ROOT / "README.md").read_text()
    script = tmp_path / "example.py"
    script.write_text("\n".join(_python_examples(readme)))

    result = run_python([str(script)], tmp_path)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "lineage.db").exists()
    assert any((tmp_path / "artifacts" / "numbers").iterdir())
    for command in _commands(readme):
        if command.endswith((".svg", ".png", ".pdf")) and not HAS_DOT:
            continue  # diagrams need Graphviz's `dot`
        ran = run_python(["-m", "lineagelog.api.cli", *shlex.split(command)[1:]], tmp_path)
        assert ran.returncode == 0, (command, ran.stderr)


def test_readme_scripts_of_their_own_run_as_written(tmp_path: Path):
    scripts = _own_scripts((ROOT / "README.md").read_text())

    assert scripts, "the README's Dask example is a script of its own"
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)
        result = run_python([str(tmp_path / name)], tmp_path, timeout=300)
        assert result.returncode == 0, (name, result.stderr)


def test_readme_says_how_unnamed_outputs_are_named_and_they_are(tmp_path: Path):
    readme = (ROOT / "README.md").read_text()
    said = re.search(r"above, `([^`]+)` and `([^`]+)`", readme)
    assert said is not None, "README gives no example of unnamed outputs' names"
    script = tmp_path / "example.py"
    script.write_text(_python_examples(readme)[0])
    assert run_python([str(script)], tmp_path).returncode == 0

    listed = run_python(["-m", "lineagelog.api.cli", "artifacts", "list", "--json"], tmp_path)

    names = {a["name"] for a in json.loads(listed.stdout)}
    assert set(said.groups()) <= names


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
