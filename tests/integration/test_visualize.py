"""ArtifactVersion.visualize() outside Jupyter prints paths a user can open."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest

from lineagelog.api import ArtifactNotFoundError, Client, pipeline, step
from lineagelog.api.visualize import csv_to_html, in_ipython


@step
def describe() -> tuple[Annotated[str, "summary"], Annotated[dict[str, int], "counts"]]:
    return "# Summary\n\nthree rows", {"rows": 3}


@pipeline
def describing() -> None:
    describe()


def test_visualize_outside_ipython_prints_each_visualization_path_that_exists(
    sqlite_stores: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    describing()
    summary = Client().get_artifact_version("summary")

    summary.visualize()

    out = capsys.readouterr().out
    assert not in_ipython()
    assert "visualizations of summary:1" in out
    printed = [line.split()[-1] for line in out.splitlines()[1:]]
    assert printed and all(Path(p).is_file() for p in printed)
    assert Path(printed[0]).read_text().startswith("# Summary")


def test_visualizations_list_the_uri_and_type_of_each_file(sqlite_stores: tuple[str, str]) -> None:
    describing()

    counts = Client().get_artifact_version("counts")

    assert [v["type"] for v in counts.visualizations] == ["json"]
    assert counts.visualizations[0]["uri"].startswith(str(counts.uri))


def test_visualize_a_deleted_version_says_it_was_deleted(sqlite_stores: tuple[str, str]) -> None:
    describing()
    client = Client()
    deleted = client.delete_artifact_version("summary", 1)

    with pytest.raises(ArtifactNotFoundError, match="summary:1 was deleted"):
        deleted.visualize()


def test_csv_becomes_an_html_table_with_escaped_cells_and_a_row_limit() -> None:
    text = "name,score\n" + "".join(f"<b>{i}</b>,{i}\n" for i in range(60))

    table = csv_to_html(text, max_rows=50)

    assert table.startswith("<table><thead><tr><th>name</th><th>score</th></tr></thead>")
    assert "&lt;b&gt;49&lt;/b&gt;" in table and "&lt;b&gt;50&lt;/b&gt;" not in table
    assert table.endswith("<p>... 10 more rows</p>")
