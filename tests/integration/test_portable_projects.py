"""A project folder keeps working when it is moved, copied or its log imported elsewhere.

Every test runs the real pipeline script in its own process with the default
home (``./.lineagelog`` of the project folder), moves the folder with the tools
people use (``shutil``, ``cp -a``, ``mv``), deletes the original so nothing can
still be read from it, and then loads, audits and reruns from the new place.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from cli import run_cli, run_python

PIPELINE = textwrap.dedent(
    """
    import json
    import sys
    from typing import Annotated

    from lineagelog.api import Client, pipeline, step


    @step
    def load(n: int = 5) -> Annotated[list[int], "numbers"]:
        return list(range(n))


    @step
    def total(values: list[int]) -> Annotated[int, "total"]:
        return sum(values)


    @pipeline
    def numbers(n: int = 5):
        total(load(n=n))


    run = numbers(n=10)
    client = Client()
    print(json.dumps({
        "status": run.status,
        "steps": {name: s.status for name, s in run.steps.items()},
        "numbers": client.get_artifact_version("numbers", "1").load(),
        "total": client.get_artifact_version("total", "1").load(),
        "uri": client.get_artifact_version("numbers", "1").uri,
    }))
    """
)


def run_pipeline(project: Path) -> dict:
    result = run_python("flow.py", cwd=project)
    assert result.returncode == 0, result.stderr
    outcome: dict = json.loads(result.stdout.strip().splitlines()[-1])
    return outcome


def new_project(folder: Path) -> Path:
    folder.mkdir()
    (folder / "flow.py").write_text(PIPELINE)
    first = run_pipeline(folder)
    assert first["status"] == "completed"
    return folder


def shutil_copy(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)
    shutil.rmtree(source)


def cp_a(source: Path, target: Path) -> None:
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)
    shutil.rmtree(source)


def mv(source: Path, target: Path) -> None:
    subprocess.run(["mv", str(source), str(target)], check=True)


def assert_audit_passes(project: Path, *options: str) -> None:
    audit = run_cli("audit", *options, cwd=project)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert audit.stdout.startswith("audit passed"), audit.stdout


@pytest.mark.parametrize("relocate", [shutil_copy, cp_a, mv], ids=["shutil", "cp -a", "mv"])
def test_a_relocated_project_loads_audits_and_serves_every_step_from_cache(tmp_path, relocate):
    project = new_project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere" / "renamed"
    elsewhere.parent.mkdir()

    relocate(project, elsewhere)
    again = run_pipeline(elsewhere)

    assert not project.exists()
    assert again["status"] == "cached"
    assert again["steps"] == {"load": "cached", "total": "cached"}
    assert (again["numbers"], again["total"]) == (list(range(10)), 45)
    assert again["uri"].startswith(f"file://{elsewhere.resolve()}/.lineagelog/artifacts/")
    assert_audit_passes(elsewhere)


def test_a_log_imported_into_another_folder_with_its_artifacts_works_there(tmp_path):
    project = new_project(tmp_path / "project")
    exported = tmp_path / "events.jsonl"
    export = run_cli("events", "export", "-o", str(exported), cwd=project)
    assert export.returncode == 0, export.stderr
    target = tmp_path / "target"
    target.mkdir()
    (target / "flow.py").write_text(PIPELINE)

    imported = run_cli("events", "import", str(exported), cwd=target)
    shutil.copytree(project / ".lineagelog" / "artifacts", target / ".lineagelog" / "artifacts")
    shutil.rmtree(project)
    again = run_pipeline(target)

    assert imported.returncode == 0, imported.stderr
    assert again["steps"] == {"load": "cached", "total": "cached"}
    assert (again["numbers"], again["total"]) == (list(range(10)), 45)
    assert_audit_passes(target)


def test_the_log_records_uris_relative_to_the_artifact_store(tmp_path):
    project = new_project(tmp_path / "project")

    exported = run_cli("events", "export", cwd=project)

    written = [
        json.loads(line)
        for line in exported.stdout.splitlines()
        if "ArtifactWritten" in line and '"type"' in line
    ]
    assert written, exported.stdout[:400]
    for event in written:
        payload = json.dumps(event)
        assert str(tmp_path) not in payload
        assert "file://" not in payload
