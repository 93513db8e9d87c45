"""URIs in the log: absolute ones from older logs still load; ones leading out are refused.

Older lineagelog recorded ``file:///<root>/<name>/<id>``. Those events are made
here as that release made them (the same domain command, an absolute URI), and
their bytes written by the real materializer into a store at another place,
as after moving the project. A URI that would leave the store (``..``, an
absolute path elsewhere, another scheme) is refused on every path that reads
bytes: ``load()``, the audit and a step input.
"""

from __future__ import annotations

import uuid

import pytest

from lineagelog.adapters.materializers import materializer_for, save_artifact
from lineagelog.api import ArtifactUriError, Client
from lineagelog.domain.artifact_name import ArtifactName


def record_version(client: Client, name: str, recorded_uri: str | None, value: object) -> str:
    """Write ``value`` into the store and record it with ``recorded_uri`` (None: as written)."""
    store = client.context.artifacts
    version_id = uuid.uuid4()
    folder = store.version_uri(name, version_id)
    saved = save_artifact(value, uri=folder, store=store, materializer_cls=materializer_for(list))
    artifact = ArtifactName.register_name(name)
    artifact.register_external_version(
        artifact_version_id=version_id,
        source="an older lineagelog",
        uri=folder if recorded_uri is None else recorded_uri.format(id=version_id),
        materializer=saved.materializer,
        data_type=saved.data_type,
        artifact_type=saved.artifact_type,
        content_hash=saved.content_hash,
        size=saved.size,
        metadata={},
        visualizations=[],
    )
    client.context.events.save(artifact)
    client.context.catch_up()
    return str(version_id)


def test_an_absolute_uri_from_a_project_that_moved_since_still_loads(sqlite_stores):
    client = Client()

    record_version(client, "numbers", "file:///old/place/.lineagelog/artifacts/numbers/{id}", [1])
    version = client.get_artifact_version("numbers")

    assert version.load() == [1]
    assert version.uri == f"{client.context.artifacts.root}/numbers/{version.id}"
    assert client.audit().ok


def test_an_absolute_uri_in_the_store_as_configured_loads_as_before(sqlite_stores):
    client = Client()

    record_version(client, "numbers", None, [1, 2])

    assert client.get_artifact_version("numbers").load() == [1, 2]
    assert client.audit().ok


@pytest.mark.parametrize(
    "recorded",
    [
        "../outside/{id}",
        "numbers/../../outside/{id}",
        "/etc/{id}",
        "file:///tmp/elsewhere/{id}",
        "s3://other-bucket/data/{id}",
    ],
)
def test_a_uri_leading_out_of_the_store_is_refused_by_load_and_reported_by_the_audit(
    sqlite_stores, recorded
):
    client = Client()

    record_version(client, "numbers", recorded, [1])
    version = client.get_artifact_version("numbers")

    with pytest.raises(ArtifactUriError) as caught:
        version.load()
    assert recorded.split("/{id}")[0] in str(caught.value)
    report = client.audit()
    assert [p.kind for p in report.problems] == ["artifact-unreadable"]
