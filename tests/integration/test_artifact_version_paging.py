"""Paging through artifact versions: the offset is part of the query, not a slice after it."""

from __future__ import annotations

from lineagelog.api import Client, save_artifact


def _ids(versions: list) -> list[str]:
    return [str(v.id) for v in versions]


def _pages(client: Client, size: int, **filters: object) -> list[list[str]]:
    pages, offset = [], 0
    while page := client.list_artifact_versions(limit=size, offset=offset, **filters):
        pages.append(_ids(page))
        offset += size
    return pages


def test_pages_of_versions_join_up_to_the_whole_list_in_name_and_version_order(
    sqlite_stores: tuple[str, str],
) -> None:
    for i in range(4):
        save_artifact(i, name="b_scores")
        save_artifact(i, name="a_labels", tags=["prod"] if i % 2 else [])
    client = Client()

    pages = _pages(client, 3)

    assert [len(p) for p in pages] == [3, 3, 2]
    assert [v for p in pages for v in p] == _ids(client.list_artifact_versions())
    assert [v.name for v in client.list_artifact_versions(limit=2, offset=3)] == [
        "a_labels",
        "b_scores",
    ]


def test_an_offset_pages_one_name_one_tag_and_the_past(sqlite_stores: tuple[str, str]) -> None:
    for i in range(3):
        save_artifact(i, name="model", tags=["prod"])
    before = Client().context.events.max_position()
    for i in range(3):
        save_artifact(i, name="model", tags=["prod"])
    client, past = Client(), Client().as_of(before)

    of_name = client.list_artifact_versions(name="model", limit=2, offset=4)
    tagged = client.list_artifact_versions(tag="prod", limit=10, offset=5)
    in_the_past = past.list_artifact_versions(name="model", limit=10, offset=1)

    assert [v.version for v in of_name] == ["5", "6"]
    assert [v.version for v in tagged] == ["6"]
    assert [v.version for v in in_the_past] == ["2", "3"]
    assert client.list_artifact_versions(offset=6) == []
