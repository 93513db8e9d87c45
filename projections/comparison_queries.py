"""Gathering both sides of a comparison from the views, as of any position.

A run comparison reads the two runs with their steps' ingredients, every
artifact version they read or wrote, and the recorded source of their code
hashes: five queries, whatever the number of steps. A trace of two artifact
versions walks both upstream graphs (the lineage walk of ``lineage_walk``)
and reads the step runs and versions it reached: four queries a side. Deleted
versions are read as the log recorded them; no artifact bytes are touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lineagelog.domain.comparison import RunFacts, StepFacts, VersionFacts
from lineagelog.projections.lineage_walk import reached_statement

if TYPE_CHECKING:
    from lineagelog.projections.queries import ViewQueries
    from lineagelog.projections.records import ArtifactVersionRecord, RunRecord, StepRunRecord

__all__ = ["ComparisonQueries", "RunSides", "UpstreamSides", "step_facts", "version_facts"]


def version_facts(record: ArtifactVersionRecord) -> VersionFacts:
    """The comparison's view of a catalog record."""
    return VersionFacts(
        id=record.id,
        name=record.name,
        version=record.version,
        content_hash=record.content_hash,
        materializer=record.materializer,
        data_type=record.data_type,
        size=record.size,
        metadata=dict(record.metadata),
        producer_step_run_id=record.producer_step_run_id,
        deleted=record.deleted,
    )


def step_facts(record: StepRunRecord) -> StepFacts:
    """The comparison's view of a step run record."""
    return StepFacts(
        id=record.id,
        run_id=record.run_id,
        invocation_id=record.name,
        step_name=record.step_name,
        status=record.status,
        cache_outcome=record.cache_outcome,
        code_hash=record.code_hash,
        parameters=dict(record.parameters),
        inputs=dict(record.inputs),
        outputs=dict(record.outputs),
        ingredients=record.ingredients,
        duration_s=record.duration_s,
        original_step_run_id=record.original_step_run_id,
        error=None if record.error_type is None else f"{record.error_type}: {record.error_message}",
    )


def _run_facts(record: RunRecord) -> RunFacts:
    return RunFacts(
        id=record.id,
        name=record.run_name,
        pipeline=record.pipeline,
        status=record.status,
        parameters=dict(record.parameters),
        started_at=record.started_at,
        ended_at=record.ended_at,
    )


@dataclass(frozen=True)
class RunSides:
    """Both runs of a run comparison, with what their steps read and wrote."""

    a: RunFacts
    b: RunFacts
    steps_a: list[StepFacts]
    steps_b: list[StepFacts]
    versions: dict[str, VersionFacts]
    sources: dict[str, str | None]


@dataclass(frozen=True)
class UpstreamSides:
    """Both artifact versions of a trace, and everything upstream of either."""

    a: VersionFacts
    b: VersionFacts
    steps: dict[str, StepFacts]
    versions: dict[str, VersionFacts]
    sources: dict[str, str | None]


class ComparisonQueries:
    """Reads the two sides of a comparison through the views' queries."""

    def __init__(self, queries: ViewQueries) -> None:
        """Read through ``queries``."""
        self.queries = queries

    def run_sides(self, run_a: str, run_b: str, as_of: int | None = None) -> RunSides:
        """The two runs (ids) with their steps, versions and code sources, as of ``as_of``.

        Raises:
            RunNotFoundError: a run did not exist (as of ``as_of``).

        """
        record_a = self.queries.get_run(run_a, as_of, with_ingredients=True)
        record_b = self.queries.get_run(run_b, as_of, with_ingredients=True)
        records = self.queries.artifact_versions_of_runs(sorted({run_a, run_b}), as_of)
        steps_a = [step_facts(s) for s in record_a.steps.values()]
        steps_b = [step_facts(s) for s in record_b.steps.values()]
        return RunSides(
            _run_facts(record_a),
            _run_facts(record_b),
            steps_a,
            steps_b,
            {vid: version_facts(r) for vid, r in records.items()},
            self.queries.code_sources(sorted({s.code_hash for s in steps_a + steps_b}), as_of),
        )

    def upstream_sides(
        self, version_a: ArtifactVersionRecord, version_b: ArtifactVersionRecord, as_of: int | None
    ) -> UpstreamSides:
        """Everything upstream of two artifact versions, as of ``as_of``."""
        artifact_ids: set[str] = set()
        step_ids: set[str] = set()
        for root in (version_a.id, version_b.id):
            for node_id, kind in self._upstream_nodes(root, as_of):
                (artifact_ids if kind == "artifact" else step_ids).add(node_id)
        steps = {
            sid: step_facts(r)
            for sid, r in self.queries.step_runs_by_id(sorted(step_ids), as_of).items()
        }
        records = self.queries.artifact_versions_by_id(sorted(artifact_ids), as_of)
        versions = {vid: version_facts(r) for vid, r in records.items()}
        versions.setdefault(version_a.id, version_facts(version_a))
        versions.setdefault(version_b.id, version_facts(version_b))
        hashes = sorted({s.code_hash for s in steps.values()})
        return UpstreamSides(
            versions[version_a.id],
            versions[version_b.id],
            steps,
            versions,
            self.queries.code_sources(hashes, as_of),
        )

    def _upstream_nodes(self, root: str, as_of: int | None) -> Iterable[tuple[str, str]]:
        query = reached_statement("upstream", as_of is not None)
        with self.queries._connect() as conn:
            rows = conn.execute(query, {"root": root, "as_of": as_of})
            return [(row.id, row.kind) for row in rows]
