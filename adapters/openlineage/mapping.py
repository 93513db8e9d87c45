"""The log as OpenLineage RunEvents: lineagelog's events mapped, in log order.

- A pipeline run is a run of job ``{pipeline}`` (JobTypeJobFacet: BATCH,
  integration ``LINEAGELOG``, job type ``DAG``): START at ``RunStarted``,
  COMPLETE, FAIL (ErrorMessageRunFacet) or ABORT (interrupted) when it ends.
- A step run is a run of job ``{pipeline}.{invocation id}`` (job type ``TASK``)
  with a ParentRunFacet naming its pipeline run: START at ``StepStarted`` with
  its inputs and its parameters (ExecutionParametersRunFacet), COMPLETE with its
  inputs and outputs when it succeeds (a cache hit too: its outputs are the
  versions it reused), FAIL or ABORT otherwise.
- An artifact version is a dataset named after where its bytes live
  (``dataset_of_uri``: ``file`` and the path, ``s3://bucket`` and the key...),
  with DatasetVersionDatasetFacet (its version) and SymlinksDatasetFacet (its
  logical ``name:version``, type ``ARTIFACT``).
- What OpenLineage has no facet for goes into lineagelog's own facets, whose
  schemas ship in this package: ``lineagelog_cache`` (run: the cache decision,
  its reason and cache key) and ``lineagelog_artifact`` (dataset: id, content
  hash, size, materializer, data type, artifact type).
- A RunEvent another tool sent (``OpenLineageEvent.Received``) is passed on as
  it was received.

Run ids are lineagelog's ids and event times the events' timestamps, and keys
are written sorted: the same log maps to the same bytes.

The mapper writes each RunEvent as its JSON line (``lines``): what repeats (a
job, an artifact version's dataset, a step's parent and parameter facets) is
serialized once, as a fragment, and an event is those fragments joined, in the
order sorted keys would put them. ``map`` parses the lines back for transports
that take a dict.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lineagelog import __name__ as _package
from lineagelog.adapters.openlineage.schemas import facet_schema_url
from lineagelog.domain.artifact_name import ArtifactName
from lineagelog.domain.openlineage import OpenLineageEvent, dataset_of_uri
from lineagelog.domain.run import PipelineRun
from lineagelog.domain.step_run import StepRun

__all__ = [
    "DEFAULT_NAMESPACE",
    "PRODUCER",
    "RUN_EVENT_SCHEMA_URL",
    "ArtifactFacts",
    "ArtifactLookup",
    "RunEventMapper",
    "dumps",
    "facet_schema_url",
]

DEFAULT_NAMESPACE = "lineagelog"
"""The job namespace when none is given (``--namespace``, ``OPENLINEAGE_NAMESPACE``)."""

RUN_EVENT_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_package)
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "0"


PRODUCER = f"https://pypi.org/project/lineagelog/{_version()}/"
"""The ``producer`` of every event and facet lineagelog writes: this release."""

dumps: Callable[[Any], str] = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False
).encode
"""Deterministic compact JSON (sorted keys): one line per event."""

_text: Callable[[str], str] = json.encoder.encode_basestring
"""A string as ``dumps`` writes it (``ensure_ascii=False``)."""


def _value(value: Any) -> str:
    """One JSON value as ``dumps`` writes it; strings, ints and null without the encoder."""
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind is int:  # not bool (its own type): the encoder writes int.__repr__ too
        return int.__repr__(value)
    if value is None:
        return "null"
    return dumps(value)


def _head(file_name: str, schema_base: str | None = None) -> str:
    """A facet's JSON up to its own fields: ``{"_producer":...,"_schemaURL":...,``."""
    url = facet_schema_url(file_name, schema_base)
    return f'{{"_producer":{_text(PRODUCER)},"_schemaURL":{_text(url)},'


_PARENT = _head("ParentRunFacet.json") + '"job":'
_PARAMETERS = _head("ExecutionParametersRunFacet.json") + '"parameters":'
_SYMLINKS = _head("SymlinksDatasetFacet.json") + '"identifiers":'
_VERSION = _head("DatasetVersionDatasetFacet.json") + '"datasetVersion":'

_TAIL = f',"producer":{_text(PRODUCER)},"run":{{"facets":'
_END = f'}},"schemaURL":{_text(RUN_EVENT_SCHEMA_URL)}}}'


def _facet(file_name: str, schema_base: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "_producer": PRODUCER,
        "_schemaURL": facet_schema_url(file_name, schema_base),
        **fields,
    }


@dataclass(frozen=True)
class ArtifactFacts:
    """What the mapper needs of an artifact version, as its writing event carries it."""

    artifact_version_id: str
    uri: str
    name: str
    version: int
    version_name: str | None
    content_hash: str
    size: int
    materializer: str
    data_type: str
    artifact_type: str


ArtifactLookup = Callable[[str], ArtifactFacts | None]
"""Finds an artifact version by id (``None``: no such version)."""


@dataclass
class _Step:
    run_id: str
    job: str  # the job's JSON fragment
    inputs: list[str]
    facets: dict[str, str]  # run facets as JSON fragments, by key: parent, executionParameters
    outputs: dict[str, str] = field(default_factory=dict)


class RunEventMapper:
    """Turns lineagelog events, fed in log order, into OpenLineage RunEvents.

    It remembers what later events need (each artifact version's dataset, each
    pipeline run's job, each open step run), so it must see the log from its
    start (``export.run_events`` maps events before ``--since`` without writing them).
    """

    def __init__(
        self,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        lookup: ArtifactLookup | None = None,
        schema_base: str | None = None,
        locate: Callable[[str], str] = str,
    ) -> None:
        """Map into job namespace ``namespace``.

        ``lookup`` finds an artifact version the mapper has not seen written (a
        live mapper starts at the end of the log, and a step reads versions of
        earlier runs); without it such a version is left out of the datasets.
        ``schema_base`` is where lineagelog's own facet schemas are served
        (``_schemaURL`` ``{schema_base}/LineagelogCacheRunFacet.json#...``); by
        default it is their ``$id``, which ``schemas.shipped_schema`` resolves.
        ``locate`` turns a recorded artifact URI (relative to its store) into the
        full URL where the bytes live (``ArtifactStore.full_uri``), which names the
        dataset; without one, recorded URIs are taken as they are.
        """
        self.namespace = namespace
        self._namespace = _value(namespace)
        self._cache_head = _head("LineagelogCacheRunFacet.json", schema_base) + '"cacheKey":'
        self._artifact_head = '{"facets":{"lineagelog_artifact":' + _head(
            "LineagelogArtifactDatasetFacet.json", schema_base
        )
        self._lookup = lookup
        self._schema_base = schema_base
        self._locate = locate
        self._datasets: dict[str, str] = {}  # artifact version id -> the dataset's JSON
        self._jobs: dict[tuple[str, str], str] = {}  # (name, job type) -> the job's JSON
        self._pipelines: dict[str, str] = {}  # pipeline run id -> its pipeline
        self._steps: dict[str, _Step] = {}
        self._handlers: dict[str, Callable[[Any], list[str]]] = {
            PipelineRun.RunStarted.__name__: self._run_started,
            PipelineRun.RunCompleted.__name__: self._run_ended("COMPLETE"),
            PipelineRun.RunFailed.__name__: self._run_ended("FAIL"),
            PipelineRun.RunInterrupted.__name__: self._run_ended("ABORT"),
            StepRun.StepStarted.__name__: self._step_started,
            StepRun.CacheDecided.__name__: self._cache_decided,
            StepRun.ArtifactWritten.__name__: self._artifact_written,
            StepRun.StepSucceeded.__name__: self._step_ended("COMPLETE"),
            StepRun.StepFailed.__name__: self._step_ended("FAIL"),
            StepRun.StepInterrupted.__name__: self._step_ended("ABORT"),
            ArtifactName.ExternalVersionRegistered.__name__: self._external_registered,
            OpenLineageEvent.Received.__name__: self._received,
        }

    def handles(self, event_name: str) -> bool:
        """Whether events of class ``event_name`` may map to RunEvents (others need no decoding)."""
        return event_name in self._handlers

    def lines(self, event: Any) -> list[str]:
        """The RunEvents one lineagelog event stands for (often none), each as its JSON line.

        ``event`` is a decoded event as projections read it (``ProjectedEvent``):
        its class name says its type, its attributes are its fields.
        """
        handler = self._handlers.get(type(event).__name__)
        return [] if handler is None else handler(event)

    def map(self, event: Any) -> list[dict[str, Any]]:
        """The RunEvents of ``event`` (see ``lines``) as JSON-able dicts."""
        return [json.loads(line) for line in self.lines(event)]

    # -- fragments -------------------------------------------------------------------------

    def _job(self, name: str, job_type: str) -> str:
        key = (name, job_type)
        job = self._jobs.get(key)
        if job is None:
            job = dumps(
                {
                    "namespace": self.namespace,
                    "name": name,
                    "facets": {
                        "jobType": _facet(
                            "JobTypeJobFacet.json",
                            processingType="BATCH",
                            integration="LINEAGELOG",
                            jobType=job_type,
                        )
                    },
                }
            )
            self._jobs[key] = job
        return job

    def _dataset(self, artifact_version_id: str) -> str | None:
        dataset = self._datasets.get(artifact_version_id)
        if dataset is None and self._lookup is not None:
            found = self._lookup(artifact_version_id)
            if found is not None:
                self._remember_artifact(found)
                dataset = self._datasets[artifact_version_id]
        return dataset

    def _line(
        self,
        event_type: str,
        e: Any,
        run_id: str,
        job: str,
        run_facets: dict[str, str],
        inputs: list[str] = (),  # type: ignore[assignment]
        outputs: list[str] = (),  # type: ignore[assignment]
    ) -> str:
        """The RunEvent's JSON as ``dumps`` writes it: keys in sorted order, fragments joined."""
        datasets = self._datasets
        found = [datasets.get(i) or self._dataset(i) for i in inputs]
        made = [datasets.get(o) or self._dataset(o) for o in outputs]
        facets = ",".join(f"{_text(key)}:{run_facets[key]}" for key in sorted(run_facets))
        ins = ",".join(d for d in found if d is not None)
        outs = ",".join(d for d in made if d is not None)
        return (
            f'{{"eventTime":{_text(e.timestamp)},"eventType":"{event_type}","inputs":[{ins}],'
            f'"job":{job},"outputs":[{outs}]{_TAIL}{{{facets}}},"runId":{_text(run_id)}{_END}'
        )

    # -- pipeline runs ---------------------------------------------------------------------

    def _run_started(self, e: Any) -> list[str]:
        run_id = e.originator_id
        self._pipelines[run_id] = e.pipeline
        facets = {"executionParameters": _parameters(e.parameters)} if e.parameters else {}
        return [self._line("START", e, run_id, self._job(e.pipeline, "DAG"), facets)]

    def _run_ended(self, event_type: str) -> Callable[[Any], list[str]]:
        def handle(e: Any) -> list[str]:
            run_id = e.originator_id
            pipeline = self._pipelines.get(run_id)
            if pipeline is None:  # the run started before what this mapper saw
                return []
            facets: dict[str, str] = {}
            error = getattr(e, "error", None) or getattr(e, "reason", None)
            if event_type != "COMPLETE" and error:
                facets["errorMessage"] = dumps(
                    _facet("ErrorMessageRunFacet.json", message=error, programmingLanguage="python")
                )
            return [self._line(event_type, e, run_id, self._job(pipeline, "DAG"), facets)]

        return handle

    # -- step runs -------------------------------------------------------------------------

    def _step_started(self, e: Any) -> list[str]:
        facets = {
            "parent": f'{_PARENT}{{"name":{_value(e.pipeline)},"namespace":{self._namespace}}},'
            f'"run":{{"runId":{_value(e.run_id)}}}}}'
        }
        if e.parameters:
            facets["executionParameters"] = _parameters(e.parameters)
        step = _Step(
            e.run_id,
            self._job(f"{e.pipeline}.{e.invocation_id}", "TASK"),
            sorted(set(e.inputs.values())),
            facets,
        )
        self._steps[e.originator_id] = step
        return [self._line("START", e, e.originator_id, step.job, step.facets, step.inputs)]

    def _cache_decided(self, e: Any) -> list[str]:
        step = self._steps.get(e.originator_id)
        if step is None:
            return []
        step.facets["lineagelog_cache"] = (
            f"{self._cache_head}{_value(e.cache_key)},"
            f'"originalStepRunId":{_value(e.original_step_run_id)},'
            f'"outcome":{_value(e.outcome)},"reason":{_value(e.reason)}}}'
        )
        step.outputs.update(e.reused_outputs)
        return []

    def _artifact_written(self, e: Any) -> list[str]:
        self._remember_artifact(e)
        step = self._steps.get(e.originator_id)
        if step is not None:
            step.outputs[e.output_name] = e.artifact_version_id
        return []

    def _step_ended(self, event_type: str) -> Callable[[Any], list[str]]:
        def handle(e: Any) -> list[str]:
            step = self._steps.pop(e.originator_id, None)
            if step is None:
                return []
            facets = step.facets
            if event_type == "FAIL":
                facets = {
                    **facets,
                    "errorMessage": dumps(
                        _facet(
                            "ErrorMessageRunFacet.json",
                            message=f"{e.error_type}: {e.message}",
                            programmingLanguage="python",
                            stackTrace=e.traceback,
                        )
                    ),
                }
            elif event_type == "ABORT":
                facets = {
                    **facets,
                    "errorMessage": dumps(
                        _facet(
                            "ErrorMessageRunFacet.json",
                            message=e.reason,
                            programmingLanguage="python",
                        )
                    ),
                }
            outputs = [step.outputs[name] for name in sorted(step.outputs)]
            return [
                self._line(event_type, e, e.originator_id, step.job, facets, step.inputs, outputs)
            ]

        return handle

    # -- artifacts and received events -----------------------------------------------------

    def _external_registered(self, e: Any) -> list[str]:
        self._remember_artifact(e)
        return []

    def _remember_artifact(self, e: Any) -> None:
        namespace, name = dataset_of_uri(self._locate(e.uri))
        version = _value(e.version_name or str(e.version))
        symlink = _value(f"{e.name}:{e.version_name or str(e.version)}")
        self._datasets[e.artifact_version_id] = (
            f'{self._artifact_head}"artifactType":{_value(e.artifact_type)},'
            f'"artifactVersionId":{_value(e.artifact_version_id)},'
            f'"contentHash":{_value(e.content_hash)},"dataType":{_value(e.data_type)},'
            f'"materializer":{_value(e.materializer)},"size":{_value(e.size)}}},'
            f'"symlinks":{_SYMLINKS}[{{"name":{symlink},"namespace":{self._namespace},'
            f'"type":"ARTIFACT"}}]}},"version":{_VERSION}{version}}}}},'
            f'"name":{_value(name)},"namespace":{_value(namespace)}}}'
        )

    def _received(self, e: Any) -> list[str]:
        return [dumps(json.loads(e.document))]


def _parameters(parameters: dict[str, Any]) -> str:
    listed = ",".join(
        f'{{"key":{_value(key)},"value":{_text(dumps(parameters[key]))}}}'
        for key in sorted(parameters)
    )
    return f"{_PARAMETERS}[{listed}]}}"
