"""The documented custom materializer example works end to end."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from cli import run_python

from lineagelog.api import Client
from lineagelog.examples import custom_materializer
from lineagelog.examples.custom_materializer import (
    CORPUS,
    Vocabulary,
    VocabularyMaterializer,
    tokenize,
)


def test_a_step_returning_a_vocabulary_is_saved_by_the_custom_materializer(
    sqlite_stores: tuple[str, str],
) -> None:
    tokenize(CORPUS)

    version = Client().get_artifact_version("vocabulary")

    assert version.materializer.endswith("custom_materializer:VocabularyMaterializer")
    loaded = version.load()
    assert isinstance(loaded, Vocabulary)
    assert loaded == Vocabulary.build(CORPUS)
    assert version.metadata["tokens"] == 9
    assert version.metadata["most_common"] == "the"
    assert version.metadata["storage_size"] == version.size


def test_the_downstream_step_gets_the_loaded_vocabulary(sqlite_stores: tuple[str, str]) -> None:
    tokenize(CORPUS)

    encoded = Client().get_artifact_version("encoded").load()

    assert encoded[0] == [0, 1, 2, 3, 0, 4]  # the cat sat on the mat


def test_the_custom_visualizations_are_recorded_and_written(sqlite_stores: tuple[str, str]) -> None:
    tokenize(CORPUS)
    version = Client().get_artifact_version("vocabulary")
    store = Client().context.artifacts

    kinds = {v["uri"].rsplit("/", 1)[-1]: v["type"] for v in version.visualizations}

    assert kinds == {"summary.md": "markdown", "top.csv": "csv"}
    summary = next(v["uri"] for v in version.visualizations if v["type"] == "markdown")
    assert "| the | 4 |" in store.read_text(summary)


def test_a_second_run_is_served_from_the_cache(sqlite_stores: tuple[str, str]) -> None:
    tokenize(CORPUS)

    second = tokenize(CORPUS)

    assert second.steps["build_vocabulary"].cache_outcome == "hit"


def test_the_materializer_is_registered_for_its_type() -> None:
    from lineagelog.adapters.materializers import materializer_for

    assert materializer_for(Vocabulary) is VocabularyMaterializer


@pytest.mark.parametrize("how", ["file", "module"])
def test_the_example_runs_as_a_script(tmp_path: Path, how: str) -> None:
    script = Path(custom_materializer.__file__)
    command = [str(script)] if how == "file" else ["-m", "lineagelog.examples.custom_materializer"]

    result = run_python(*command, settings={"LINEAGELOG_HOME": str(tmp_path)}, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "[('the', 4), ('cat', 2), ('sat', 2)]" in result.stdout
    assert "summary.md" in result.stdout


def test_no_example_module_shadows_the_standard_library() -> None:
    examples = Path(custom_materializer.__file__).parent
    shadowing = {p.stem for p in examples.glob("*.py")} & sys.stdlib_module_names

    assert not shadowing, (
        f"`python examples/X.py` would import these instead of the stdlib's: {shadowing}"
    )
