"""Checks every new artifact event must pass: rebuild, audit, export/import, as_of.

Shared by the ZenML artifact tests (``from artifact_history import check_history``).
"""

from __future__ import annotations

from pathlib import Path

from views import view_rows

from lineagelog.adapters.export import export_events, import_events
from lineagelog.api import Client

__all__ = ["check_history", "versions_seen"]


def versions_seen(client: Client) -> list[tuple[str, str, int, tuple[str, ...], str]]:
    """Every version as a user sees it: name, version name, number, tags, content hash."""
    return [
        (v.name, v.version, v.number, v.tags, v.content_hash)
        for v in client.list_artifact_versions()
    ]


def check_history(client: Client, tmp_path: Path) -> None:
    """Views rebuilt from the log equal the incremental ones; the audit is clean; an
    exported log imported elsewhere shows the same versions."""
    client.context.catch_up()
    incremental = view_rows(client.context)
    seen = versions_seen(client)

    client.context.projector.rebuild()

    assert view_rows(client.context) == incremental
    assert client.audit().ok, client.audit().problems
    exported = tmp_path / "events.jsonl"
    with exported.open("w", encoding="utf-8") as out:
        export_events(client.context.events, out)
    copy = Client(f"sqlite:///{tmp_path / 'copy.db'}", client.context.artifacts.root)
    with exported.open(encoding="utf-8") as source:
        import_events(copy.context.events, source)
    assert versions_seen(copy) == seen
