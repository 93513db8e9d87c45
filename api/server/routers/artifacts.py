"""Artifacts: names, versions (by tag), one version, its visualizations; tags and deletes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import Response

from lineagelog.api.json_shapes import version_detail, version_summary
from lineagelog.api.server.deps import Limit, Offset, Reader, Writer, page
from lineagelog.api.server.models import ArtifactName, Page, VersionDetail, VersionSummary
from lineagelog.api.server.security import VISUALIZATION_CSP
from lineagelog.domain.errors import ArtifactNotFoundError
from lineagelog.projections.jsonable import json_ready

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["artifacts"])

VersionRef = Annotated[
    str,
    Path(
        max_length=300,
        description="name (its latest version), name:version, a version id or a unique prefix",
    ),
]
TagName = Annotated[str, Path(min_length=1, max_length=200)]

_MEDIA = {
    "html": "text/html; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
_IMAGES = {".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


@router.get("/artifacts", response_model=Page[ArtifactName])
def list_artifacts(client: Reader, limit: Limit = 100, offset: Offset = 0) -> Any:
    """Artifact names with their version counts and latest version number."""
    if client.as_of_position is None:
        client.context.catch_up()  # read-your-writes, as every Client query does
    names = client.context.queries.artifact_names(
        as_of=client.as_of_position, limit=limit + 1, offset=offset
    )
    rows = [{"name": n, "versions": c, "latest": latest} for n, c, latest in names]
    return page(rows, offset, limit, len(rows) > limit)


@router.get("/artifact-versions", response_model=Page[VersionSummary])
def list_versions(
    client: Reader,
    name: Annotated[str | None, Query(max_length=300)] = None,
    tag: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Artifact versions by name and version, optionally of one name or with one tag."""
    if name is not None:
        client.get_artifact(name)  # an unknown name is a 404, not an empty page
    versions = client.list_artifact_versions(name=name, tag=tag, limit=limit + 1, offset=offset)
    rows = [version_summary(v) for v in versions]
    return page(rows, offset, limit, len(rows) > limit)


@router.get("/artifact-versions/{ref}", response_model=VersionDetail)
def get_version(ref: VersionRef, client: Reader) -> Any:
    """One artifact version: producer, consumers, metadata, visualizations, tags."""
    return json_ready(version_detail(client, client.get_artifact_version(ref)))


@router.get("/artifact-versions/{ref}/visualizations/{index}", response_class=Response)
def visualization(
    ref: VersionRef, index: Annotated[int, Path(ge=0, le=1000)], client: Reader
) -> Response:
    """One visualization's content, served sandboxed (its scripts cannot reach the app).

    The file is the one the log recorded for the version, chosen by position:
    no name from the request reaches the artifact store.
    """
    version = client.get_artifact_version(ref)
    label = f"{version.name}:{version.version}"
    if version.deleted:
        raise ArtifactNotFoundError(f"artifact {label} was deleted, so its visualizations are gone")
    if index >= len(version.visualizations):
        raise ArtifactNotFoundError(
            f"artifact {label} has {len(version.visualizations)} visualizations; "
            f"index {index} is past them (they count from 0)"
        )
    recorded = version.visualizations[index]
    uri, kind = recorded["uri"], recorded["type"]
    data = client.context.artifacts.read_bytes(uri)
    if kind == "image":
        suffix = uri[uri.rfind(".") :].lower() if "." in uri else ""
        media = _IMAGES.get(suffix, "image/png")
    else:
        media = _MEDIA.get(kind, "text/plain; charset=utf-8")
    return Response(
        data,
        media_type=media,
        headers={"Content-Security-Policy": VISUALIZATION_CSP, "X-Content-Type-Options": "nosniff"},
    )


@router.post("/artifact-versions/{ref}/tags", response_model=VersionDetail, tags=["writes"])
def tag_version(
    ref: VersionRef,
    client: Writer,
    tag: Annotated[str, Body(embed=True, min_length=1, max_length=200)],
) -> Any:
    """Tag an artifact version (a ``VersionTagged`` event, as ``artifacts tag`` records)."""
    version = client.get_artifact_version(ref)
    tagged = client.tag_artifact(version.name, version.version, tag)
    return json_ready(version_detail(client, tagged))


@router.delete("/artifact-versions/{ref}/tags/{tag}", response_model=VersionDetail, tags=["writes"])
def untag_version(ref: VersionRef, tag: TagName, client: Writer) -> Any:
    """Remove a tag from an artifact version (a ``VersionUntagged`` event)."""
    version = client.get_artifact_version(ref)
    untagged = client.untag_artifact(version.name, version.version, tag)
    return json_ready(version_detail(client, untagged))


@router.delete("/artifact-versions/{ref}", response_model=VersionDetail, tags=["writes"])
def delete_version(ref: VersionRef, client: Writer) -> Any:
    """Delete an artifact version's data (recorded as an event; its lineage stays)."""
    version = client.get_artifact_version(ref)
    deleted = client.delete_artifact_version(
        version.name, version.version, reason="deleted through the lineage server"
    )
    return json_ready(version_detail(client, deleted))
