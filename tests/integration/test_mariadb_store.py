"""Smoke test: the log and the views on MariaDB through eventsourcing-sqlalchemy."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineagelog.api.client import Client
from lineagelog.examples.numbers_pipeline import numbers

pytestmark = pytest.mark.mariadb


def test_a_pipeline_runs_and_reads_back_on_mariadb(mariadb_url: str, tmp_path: Path) -> None:
    store = str(tmp_path / "artifacts")

    numbers.run(n=6, database_url=mariadb_url, artifact_store=store)
    second = numbers.run(n=6, database_url=mariadb_url, artifact_store=store)

    client = Client(mariadb_url, store)
    assert client.get_artifact_version("evens").load() == [0, 2, 4]
    assert len(client.list_runs()) == 2
    assert second.steps["load"].cache_outcome == "hit"
    assert client.context.events.max_position() > 0
