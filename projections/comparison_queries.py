"""Gathering both sides of a comparison from the views, as of any position.

A run comparison reads the two runs with their steps' ingredients, every
artifact version they read or wrote, and the recorded source of their code
hashes: five queries, whatever the number of steps. A trace of two artifact
versions walks both upstream graphs at once (the lineage walk of
``lineage_walk``, seeded with both versions) and reads, in the same statement,
only the columns of the step runs and versions reached that a trace compares,
as plain tuples with their JSON decoded here: one query, and one more for the
recorded sources of the code hashes met. Deleted versions are read as the log
recorded them; no artifact bytes are touched.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import JSON, Integer, Table, Text, and_, bindparam, cast, select

from lineagelog.domain.comparison import RunFacts, StepFacts, VersionFacts
from lineagelog.projections import schema as t
from lineagelog.projections.lineage_walk import reached_ids
from lineagelog.projections.view_reader import visible

if TYPE_CHECKING:
    from sqlalchemy import Select

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


_sr, _av = t.step_runs, t.artifact_versions


class _StepColumns(NamedTuple):
    """The columns of a step run a trace reads, named as in ``step_runs``."""

    id: str
    run_id: str
    invocation_id: str
    step_name: str
    status: str
    cache_outcome: str | None
    code_hash: str
    parameters: str
    inputs: str
    ingredients: str | None
    duration_s: float | None
    original_step_run_id: str | None
    error_type: str | None
    error_message: str | None
    cache_pos: int | None
    ended_pos: int | None


class _VersionColumns(NamedTuple):
    """The columns of an artifact version a trace reads, named as in ``artifact_versions``."""

    id: str
    name: str
    version_name: str
    content_hash: str
    materializer: str
    data_type: str
    size: int
    producer_step_run_id: str | None
    output_name: str | None
    deleted_pos: int | None


def _columns(table: Table, names: tuple[str, ...]) -> list[Any]:
    """The named columns of ``table``; JSON ones as text, decoded only where a trace needs it."""
    return [
        cast(table.c[n], Text).label(n) if isinstance(table.c[n].type, JSON) else table.c[n]
        for n in names
    ]


# A row of the statement is a node id, then a step run's columns (all None unless the
# node is a step run), then an artifact version's (likewise).
_STEP = slice(1, 1 + len(_StepColumns._fields))
_VERSION = slice(_STEP.stop, _STEP.stop + len(_VersionColumns._fields))


@functools.cache
def _upstream_statement(dated: bool) -> Select[Any]:
    """Every node upstream of ``root_a`` or ``root_b``, with what a trace compares of it.

    A row is a step run (its step columns set) or an artifact version (its
    version columns set); nodes of other kinds have neither and are skipped.
    Rows are read as plain tuples: a trace of a long history reads thousands.
    """
    reached = reached_ids("upstream", dated, ("root_a", "root_b"))
    as_of = bindparam("as_of", type_=Integer)
    step_on = [_sr.c.id == reached.c.id, *([_sr.c.started_pos <= as_of] if dated else [])]
    version_on = [_av.c.id == reached.c.id, *([_av.c.position <= as_of] if dated else [])]
    columns = _columns(_sr, _StepColumns._fields) + _columns(_av, _VersionColumns._fields)
    return select(reached.c.id, *columns).select_from(
        reached.outerjoin(_sr, and_(*step_on)).outerjoin(_av, and_(*version_on))
    )


def _upstream_step(row: _StepColumns, outputs: dict[str, str], as_of: int | None) -> StepFacts:
    """A step run read by the upstream statement, as it stood as of ``as_of``."""
    decided, ended = visible(row.cache_pos, as_of), visible(row.ended_pos, as_of)
    return StepFacts(
        id=row.id,
        run_id=row.run_id,
        invocation_id=row.invocation_id,
        step_name=row.step_name,
        status=row.status if ended else "running",
        cache_outcome=row.cache_outcome if decided else None,
        code_hash=row.code_hash,
        parameters=json.loads(row.parameters),
        inputs=json.loads(row.inputs),
        outputs=outputs,
        ingredients=(
            json.loads(row.ingredients) if decided and row.ingredients is not None else None
        ),
        duration_s=row.duration_s if ended else None,
        original_step_run_id=row.original_step_run_id if decided else None,
        error=f"{row.error_type}: {row.error_message}" if ended and row.error_type else None,
    )


def _upstream_version(row: _VersionColumns, as_of: int | None) -> VersionFacts:
    """An artifact version read by the upstream statement, as of ``as_of``."""
    return VersionFacts(
        id=row.id,
        name=row.name,
        version=row.version_name,
        content_hash=row.content_hash,
        materializer=row.materializer,
        data_type=row.data_type,
        size=row.size,
        producer_step_run_id=row.producer_step_run_id,
        deleted=visible(row.deleted_pos, as_of),
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
    """Both artifact versions of a trace, and everything upstream of either.

    A step's ``outputs`` are those upstream of either version (a trace follows
    inputs up to their producers, never a step's other outputs).
    """

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
        """Everything upstream of two artifact versions, as of ``as_of``: one walk for both."""
        params = {"root_a": version_a.id, "root_b": version_b.id, "as_of": as_of}
        with self.queries._connect() as conn:
            rows = conn.execute(_upstream_statement(as_of is not None), params).tuples().all()
        step_rows = [_StepColumns._make(r[_STEP]) for r in rows if r[_STEP.start] is not None]
        version_rows = [
            _VersionColumns._make(r[_VERSION]) for r in rows if r[_VERSION.start] is not None
        ]
        outputs: dict[str, dict[str, str]] = defaultdict(dict)
        for version in version_rows:
            if version.producer_step_run_id is not None and version.output_name is not None:
                outputs[version.producer_step_run_id][version.output_name] = version.id
        steps = {row.id: _upstream_step(row, outputs[row.id], as_of) for row in step_rows}
        versions = {row.id: _upstream_version(row, as_of) for row in version_rows}
        # The two versions as the caller read them (with their tags, as of the same moment).
        versions[version_a.id] = version_facts(version_a)
        versions[version_b.id] = version_facts(version_b)
        hashes = sorted({s.code_hash for s in steps.values()})
        return UpstreamSides(
            versions[version_a.id],
            versions[version_b.id],
            steps,
            versions,
            self.queries.code_sources(hashes, as_of),
        )
