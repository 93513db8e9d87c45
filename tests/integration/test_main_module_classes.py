"""Classes defined in the script being run are recorded by module path, as ZenML resolves them.

``python my_script.py`` defines its classes in ``__main__``, a different module
in every process. They are recorded as ``my_script:Point`` (the script's path
relative to its folder, the source root), so another process loads them after
``import my_script``; without that import the error names the class and the
import, and never blames damaged bytes.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from cli import run_python

from lineagelog.api import Client, UntrustedTypeError

SCRIPT = """
import json
import os
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel

from lineagelog.api import ArtifactType, BaseMaterializer, Client, fileio, pipeline, step


@dataclass
class Point:
    x: int
    y: int


class TrainingConfig(BaseModel):
    learning_rate: float
    epochs: int


class MyObj:
    def __init__(self, name: str):
        self.name = name


class MyMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES = (MyObj,)
    ASSOCIATED_ARTIFACT_TYPE = ArtifactType.DATA

    def load(self, data_type):
        with fileio.open(os.path.join(self.uri, "data.txt"), "r") as f:
            name = f.read()
        return MyObj(name=name)

    def save(self, my_obj):
        with fileio.open(os.path.join(self.uri, "data.txt"), "w") as f:
            f.write(my_obj.name)


@step
def make() -> tuple[
    Annotated[Point, "point"], Annotated[TrainingConfig, "config"], Annotated[MyObj, "my_obj"]
]:
    return Point(1, 2), TrainingConfig(learning_rate=0.1, epochs=3), MyObj("jane")


@pipeline
def main_pipeline():
    make()


if __name__ == "__main__":
    main_pipeline()
    client = Client()
    print(json.dumps({
        "point": repr(client.get_artifact_version("point").load()),
        "config": repr(client.get_artifact_version("config").load()),
        "my_obj": client.get_artifact_version("my_obj").load().name,
    }))
"""

LOAD_AFTER_IMPORT = """
import json
{import_line}
from lineagelog.api import Client

client = Client()
print(json.dumps({{
    "point": repr(client.get_artifact_version("point").load()),
    "config": repr(client.get_artifact_version("config").load()),
    "my_obj": client.get_artifact_version("my_obj").load().name,
}}))
"""

EXPECTED = {
    "point": "Point(x=1, y=2)",
    "config": "TrainingConfig(learning_rate=0.1, epochs=3)",
    "my_obj": "jane",
}


def run_script(folder: Path, stores: tuple[str, str], *args: str) -> dict[str, str]:
    ran = run_python(*args, stores=stores, cwd=folder)
    assert ran.returncode == 0, ran.stderr
    loaded: dict[str, str] = json.loads(ran.stdout.splitlines()[-1])
    return loaded


@pytest.fixture
def script_run(tmp_path: Path, sqlite_stores: tuple[str, str]) -> Path:
    """``python my_script.py`` run from its own folder; its artifacts are in the stores."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "my_script.py").write_text(textwrap.dedent(SCRIPT))

    assert run_script(folder, sqlite_stores, "my_script.py") == EXPECTED  # it loads its own
    return folder


def test_the_script_s_classes_are_recorded_by_module_path_not_main(script_run: Path) -> None:
    client = Client()

    assert client.get_artifact_version("point").data_type == "my_script:Point"
    assert client.get_artifact_version("config").data_type == "my_script:TrainingConfig"
    assert client.get_artifact_version("my_obj").data_type == "my_script:MyObj"
    assert client.get_artifact_version("my_obj").materializer == "my_script:MyMaterializer"
    assert client.get_run(client.list_runs()[0].id).steps["make"].source_ref == "my_script:make"


def test_another_process_loads_them_after_importing_the_script(
    script_run: Path, sqlite_stores: tuple[str, str]
) -> None:
    program = LOAD_AFTER_IMPORT.format(import_line="import my_script")

    assert run_script(script_run, sqlite_stores, "-c", program) == EXPECTED


@pytest.mark.parametrize(
    ("name", "missing"),
    [
        ("point", "the class 'my_script:Point'"),
        ("config", "the class 'my_script:TrainingConfig'"),
        ("my_obj", "the materializer class 'my_script:MyMaterializer'"),
    ],
)
def test_without_the_import_the_error_names_the_class_and_the_import(
    script_run: Path, name: str, missing: str
) -> None:
    version = Client().get_artifact_version(name)

    with pytest.raises(UntrustedTypeError) as refused:
        version.load()

    message = str(refused.value)
    assert f"{missing} is not imported in this process" in message
    assert "`import my_script`" in message
    assert "damaged" not in message


def test_a_script_run_as_a_module_is_recorded_by_its_module_name(
    tmp_path: Path, sqlite_stores: tuple[str, str]
) -> None:
    package = tmp_path / "project" / "tools"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "my_script.py").write_text(textwrap.dedent(SCRIPT))

    assert run_script(tmp_path / "project", sqlite_stores, "-m", "tools.my_script") == EXPECTED
    program = LOAD_AFTER_IMPORT.format(import_line="import tools.my_script")
    assert run_script(tmp_path / "project", sqlite_stores, "-c", program) == EXPECTED
    assert Client().get_artifact_version("point").data_type == "tools.my_script:Point"
