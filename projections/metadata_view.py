"""The metadata view: every logged metadata key, and what it was logged on.

Each metadata event (``RunMetadataLogged``, ``StepMetadataLogged``,
``VersionMetadataLogged``) becomes one row per key, at the event's position; queries merge them in
position order, so a later value of a key wins and ``as_of`` reads the same
rows with a filter. The metadata a materializer extracted when it saved an
artifact stays in the catalog's ``metadata`` column, under these rows.
"""

from __future__ import annotations

from typing import Any, Literal

from lineagelog.domain.artifact_name import ArtifactName
from lineagelog.domain.run import PipelineRun
from lineagelog.domain.step_run import StepRun
from lineagelog.projections import schema as t
from lineagelog.projections.batch import PageBatch

__all__ = ["METADATA_HANDLERS", "TargetKind"]

TargetKind = Literal["run", "step_run", "artifact_version"]
"""``run``, ``step_run`` or ``artifact_version``: what a metadata row was logged on."""


def _rows(b: PageBatch, pos: int, e: Any, kind: TargetKind, target_id: str) -> None:
    for key, value in e.metadata.items():
        b.insert(
            t.run_metadata,
            {
                "position": pos,
                "key": key,
                "target_kind": kind,
                "target_id": target_id,
                "value": value,
                "type": e.types.get(key, "str"),
            },
            key=(pos, key),
        )


def _run_metadata(b: PageBatch, pos: int, e: Any) -> None:
    _rows(b, pos, e, "run", str(e.originator_id))


def _step_run_metadata(b: PageBatch, pos: int, e: Any) -> None:
    _rows(b, pos, e, "step_run", str(e.originator_id))


def _version_metadata(b: PageBatch, pos: int, e: Any) -> None:
    _rows(b, pos, e, "artifact_version", str(e.artifact_version_id))


METADATA_HANDLERS = {
    PipelineRun.RunMetadataLogged: _run_metadata,
    StepRun.StepMetadataLogged: _step_run_metadata,
    ArtifactName.VersionMetadataLogged: _version_metadata,
}
"""The metadata view's handlers, keyed by event class."""
