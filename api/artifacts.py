"""A run's artifacts: step outputs written and recorded, recorded versions loaded back.

An output is materialized into the artifact store first, hashed, and only
then recorded: the next version number of its name (``VersionRegistered``)
and ``ArtifactWritten`` go in one append, retried with the next number when
another writer took it. A crash in between leaves orphan bytes, never an
event pointing at nothing. Loading goes through the materializer recorded at
write time, read from the log (``lineagelog.api.recorded``), never from a view
row; a step's inputs are checked against their recorded bytes before use
(``lineagelog.api.content_check``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.materializers import load_artifact, materializer_for_value, save_artifact
from lineagelog.adapters.repository import Changes
from lineagelog.adapters.write_leases import write_lease
from lineagelog.api.artifact_config import ArtifactConfig
from lineagelog.api.building import ExternalInput, Invocation
from lineagelog.api.config import pickle_fallback_enabled
from lineagelog.api.content_check import bytes_problem
from lineagelog.api.context import LineageContext
from lineagelog.api.recorded import (
    VIEWS_DISAGREE,
    ProducedOutput,
    recorded_deletion,
    recorded_output,
)
from lineagelog.api.step_context import StepContextOutput
from lineagelog.api.tagging import Tag, as_tags, tag_artifact_version_in
from lineagelog.domain.artifact_name import ArtifactName, describe_deletion
from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    IntegrityError,
    LineageError,
    MaterializerError,
    NoMaterializerError,
    StepContextError,
    UnsafeLoadError,
    UntrustedTypeError,
)
from lineagelog.domain.names import artifact_name_id, default_artifact_name
from lineagelog.domain.step_run import StepRun
from lineagelog.projections.faults import checkpoint

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore
    from lineagelog.adapters.materializers import BaseMaterializer, SavedArtifact
    from lineagelog.api.step import Step

__all__ = [
    "ArtifactRecorder",
    "ProducedOutput",
    "check_untouched",
    "load_artifact_version",
    "load_input",
    "load_stored_input",
    "output_materializer",
    "recorded_version",
]


class ArtifactRecorder:
    """Writes a run's step outputs to the artifact store and records them in the log."""

    def __init__(
        self,
        context: LineageContext,
        *,
        pipeline: str,
        on_saved: Callable[[list[int]], object] | None = None,
        cascade_tags: Sequence[Tag] = (),
    ) -> None:
        """Record outputs of ``pipeline`` in ``context``; ``on_saved`` gets appended positions.

        ``cascade_tags`` (a pipeline's ``Tag(..., cascade=True)``) go on every version written.
        The pickle fallback setting is read once, here, before the run records anything.
        """
        self.context = context
        self.pipeline = pipeline
        self._on_saved = on_saved
        self._cascade_tags = list(cascade_tags)
        self.pickle_fallback = pickle_fallback_enabled()

    def write_output(
        self,
        invocation: Invocation,
        step_run_id: uuid.UUID,
        spec: Any,
        value: Any,
        succeed_started: float | None,
        tags: Sequence[Tag] = (),
        planned: StepContextOutput | None = None,
    ) -> ProducedOutput:
        """Write one output (with ``succeed_started``, the last: the step succeeds with it).

        The last output's ``ArtifactWritten`` and the ``StepSucceeded`` go in one append,
        with the version's tags (``tags``, its ``ArtifactConfig``'s and the cascade tags).
        ``planned`` is the output as the step context showed it: its artifact
        version id and URI are used, and the metadata the step added is recorded
        on the new version in the same append.
        """
        name = spec.artifact_name or default_artifact_name(self.pipeline, invocation.id, spec.name)
        materializer = output_materializer(
            invocation.step,
            invocation.id,
            self.pipeline,
            spec.name,
            value,
            pickle_fallback=self.pickle_fallback,
        )
        if planned is not None:
            name = planned.artifact_name
            check_untouched(self.context.artifacts, invocation.id, planned)
        return self.write(
            step_run_id,
            name,
            spec.name,
            value,
            materializer,
            spec.config or ArtifactConfig(),
            succeed_started=succeed_started,
            extract_metadata=invocation.artifact_metadata,
            include_visualizations=invocation.artifact_visualization,
            tags=tags,
            planned=planned,
        )

    def write(
        self,
        step_run_id: uuid.UUID,
        name: str,
        output_name: str,
        value: Any,
        materializer: type[BaseMaterializer],
        config: ArtifactConfig,
        *,
        succeed_started: float | None = None,
        save_type: str = "step_output",
        extract_metadata: bool = True,
        include_visualizations: bool = True,
        tags: Sequence[Tag] = (),
        planned: StepContextOutput | None = None,
    ) -> ProducedOutput:
        """Write ``value`` as a new version of ``name``, recorded as output ``output_name``.

        ``config`` gives the version's name, tags, run metadata and artifact
        type; ``save_type`` is ``"manual"`` for an artifact a step body saved.
        """
        artifact_version_id = planned.artifact_version_id if planned else uuid.uuid4()
        uri = self.context.artifacts.version_uri(name, artifact_version_id)
        # The lease keeps `gc` off the folder until its event is recorded (or the write failed).
        with write_lease(self.context.artifacts, artifact_version_id, name):
            saved = save_artifact(
                value,
                uri=uri,
                store=self.context.artifacts,
                materializer_cls=materializer,
                extract_metadata=extract_metadata,
                include_visualizations=include_visualizations,
            )
            checkpoint("artifact.written")  # bytes stored, no event yet: orphan bytes at worst
            produced = self.record_saved(
                step_run_id,
                name,
                artifact_version_id,
                output_name,
                saved,
                config,
                succeed_started=succeed_started,
                save_type=save_type,
                tags=tags,
                planned=planned,
            )
        checkpoint("artifact.recorded")
        return produced

    def record_saved(
        self,
        step_run_id: uuid.UUID,
        name: str,
        artifact_version_id: uuid.UUID,
        output_name: str,
        saved: SavedArtifact,
        config: ArtifactConfig,
        *,
        succeed_started: float | None = None,
        save_type: str = "step_output",
        tags: Sequence[Tag] = (),
        planned: StepContextOutput | None = None,
        before: Callable[[StepRun], object] | None = None,
    ) -> ProducedOutput:
        """Record ``saved`` (bytes already in the store, hashed) as a new version of ``name``.

        A step on a worker saved the bytes; the driver records them here, as ``write``
        does for a step in this process. The caller holds the version's write lease.
        ``saved`` names the full URL it was written to; the log records it relative to
        the store (``SavedArtifact.as_recorded``), whoever wrote it. ``before`` changes
        the step run first, in the same append (the driver's news of its attempts).
        """
        saved = saved.as_recorded(self.context.artifacts)
        all_tags = as_tags([*self._cascade_tags, *config.tags, *tags], f"output {output_name!r}")
        number, version_name = self._record_version(
            step_run_id,
            name,
            artifact_version_id,
            output_name,
            saved,
            succeed_started,
            config,
            save_type,
            all_tags,
            planned.run_metadata if planned is not None else None,
            before,
        )
        return ProducedOutput(
            str(artifact_version_id),
            saved.content_hash,
            saved.uri,
            saved.materializer,
            saved.data_type,
            name,
            number,
            saved.size,
            version_name,
        )

    def _record_version(
        self,
        step_run_id: uuid.UUID,
        name: str,
        artifact_version_id: uuid.UUID,
        output_name: str,
        saved: SavedArtifact,
        succeed_started: float | None,
        config: ArtifactConfig,
        save_type: str,
        tags: Sequence[Tag],
        logged_metadata: dict[str, Any] | None,
        before: Callable[[StepRun], object] | None = None,
    ) -> tuple[int, str]:
        """Take the next version number of ``name`` and record the artifact, atomically.

        Another writer taking that number first makes the repository reload both
        streams and take the next one. The tags are ``VersionTagged`` events and the
        metadata the step logged a ``VersionMetadataLogged``, in the same append.
        Returns the version's number and name.
        """

        def record(changes: Changes) -> tuple[int, str]:
            artifact = changes.get(
                artifact_name_id(name),
                ArtifactName,
                create=lambda: ArtifactName.register_name(name),
            )
            number = artifact.register_version(
                artifact_version_id, step_run_id, saved.content_hash, config.version
            )
            tag_artifact_version_in(changes, artifact, number, tags)
            if logged_metadata:
                artifact.log_version_metadata(number, logged_metadata)
            step_run = changes.get(step_run_id, StepRun)
            if before is not None:
                before(step_run)
            step_run.record_artifact(
                output_name=output_name,
                artifact_version_id=artifact_version_id,
                name=name,
                version=number,
                uri=saved.uri,
                materializer=saved.materializer,
                data_type=saved.data_type,
                artifact_type=(config.artifact_type or saved.artifact_type),
                content_hash=saved.content_hash,
                size=saved.size,
                metadata=saved.metadata,
                visualizations=saved.visualizations,
                version_name=artifact.version_names[number],
                run_metadata=config.run_metadata,
                save_type=save_type,
            )
            if succeed_started is not None:
                step_run.succeed(time.perf_counter() - succeed_started)
            return number, artifact.version_names[number]

        return self.context.repository.change_together(
            record, on_saved=self._on_saved, what=f"take a version number of artifact {name!r}"
        )


def output_materializer(
    step: Step,
    invocation_id: str,
    pipeline: str,
    output_name: str,
    value: Any,
    *,
    pickle_fallback: bool,
) -> type[BaseMaterializer]:
    """The materializer of an output: the step's override, else the one for the value's type.

    Raises:
        NoMaterializerError: naming the output, the step and the pipeline.
    """
    override = step.output_materializers.get(output_name)
    try:
        return override or materializer_for_value(value, pickle_fallback=pickle_fallback)
    except NoMaterializerError as e:
        raise NoMaterializerError(
            f"output {output_name!r} of step {invocation_id!r} (pipeline {pipeline!r}): {e}"
        ) from None


def check_untouched(store: ArtifactStore, invocation_id: str, planned: StepContextOutput) -> None:
    """Refuse an output folder the step body wrote into through the step context's URI.

    Raises:
        StepContextError: naming the step, the URI and what to do instead.
    """
    uri = planned.artifact_uri
    if store.exists(uri) and store.walk_files(uri):
        raise StepContextError(
            f"step {invocation_id!r} wrote files into {uri!r}, the URI of its output "
            f"{planned.name!r}, before returning; lineagelog writes an output's folder only "
            "through its materializer (so its bytes are hashed as one version): write those "
            "files in a materializer's save(), or return them as a Path output"
        )


def record_external_input(
    context: LineageContext, pipeline: str, external: ExternalInput
) -> ProducedOutput:
    """The version an external step input is, as the log records it.

    An ``ExternalArtifact`` value is saved first (once per run), under
    ``{pipeline}::{step}::external_{input}``.

    Raises:
        IntegrityError: the log records no such version.
    """
    from lineagelog.api.external import ExternalArtifact
    from lineagelog.api.lifecycle import ArtifactLifecycle, VersionSettings

    source = external.source
    if not isinstance(source, ExternalArtifact):
        return recorded_version(context, source)
    consumer, input_name = external.first_consumer
    name = default_artifact_name(pipeline, consumer, f"external_{input_name}")
    settings = VersionSettings(
        extract_metadata=source.store_artifact_metadata,
        include_visualizations=source.store_artifact_visualizations,
    )
    saved_id = ArtifactLifecycle(context).save_value(
        source.value, name, source.materializer, settings
    )
    recorded = recorded_output(context.events, saved_id, name=name)
    if recorded is None:
        raise IntegrityError(f"the external artifact {name} ({saved_id}) is not in the log")
    return recorded


def load_input(context: LineageContext, produced: ProducedOutput) -> Any:
    """Load an output of an earlier step of this run, to pass to a downstream step.

    ``produced`` is the version as the log recorded it. Its stored bytes are
    checked against the record first (see ``content_check``); a step opted in to
    pickling this output, so its consumers may unpickle it, but only bytes that
    hash to what the log recorded.

    Raises:
        IntegrityError: the stored bytes no longer match the recorded ones.

    """
    return load_stored_input(context.artifacts, produced)


def load_stored_input(store: ArtifactStore, produced: ProducedOutput) -> Any:
    """``load_input`` from ``store`` alone: what a step on a worker, away from the log, does."""
    pickled = _is_pickle(produced.materializer)
    problem = bytes_problem(store, produced, always_hash=pickled)
    if problem is not None:
        raise IntegrityError(
            f"input artifact {produced.label} ({produced.artifact_version_id}) no longer "
            f"matches its recorded bytes: {problem}; the step did not run on it. "
            "Run `lineagelog audit` to see what else changed"
        )
    return _load(store, produced, allow_pickle=pickled, verify=False)


def _load(store: ArtifactStore, version: Any, *, allow_pickle: bool, verify: bool) -> Any:
    return load_artifact(
        uri=store.locate(version.uri),
        store=store,
        materializer_source=version.materializer,
        data_type_source=version.data_type,
        allow_pickle=allow_pickle,
        expected_content_hash=version.content_hash,
        verify=verify,
    )


def _is_pickle(materializer: str) -> bool:
    from lineagelog.adapters.materializers import PickleMaterializer, resolve_materializer

    try:
        cls = resolve_materializer(materializer)
    except LineageError:
        return False
    return issubclass(cls, PickleMaterializer)


def recorded_version(context: LineageContext, version: Any) -> ProducedOutput:
    """The artifact version a catalog record (or ``ArtifactVersion``) names, as the log states it.

    Raises:
        IntegrityError: the log records no such version: the views disagree with the log.

    """
    recorded = recorded_output(
        context.events,
        version.id,
        name=version.name,
        producer_step_run_id=version.producer_step_run_id,
    )
    if recorded is None:
        raise IntegrityError(
            f"artifact {version.name}:{version.version} ({version.id}) is in the views but "
            f"the event log records no such artifact version; {VIEWS_DISAGREE}"
        )
    return recorded


def _raise_if_deleted(context: LineageContext, recorded: ProducedOutput, label: str) -> None:
    """Raise ``ArtifactNotFoundError`` saying when and why, if the log tombstoned the version."""
    tombstone = recorded_deletion(context.events, recorded.artifact_version_id, name=recorded.name)
    if tombstone is not None:
        raise ArtifactNotFoundError(
            f"{label} was {describe_deletion(tombstone.timestamp, tombstone.reason)}, so it "
            f"cannot be loaded; load a version that is not deleted (see `lineagelog artifacts "
            f"list {recorded.name}`)"
        )


def load_artifact_version(
    context: LineageContext, version: Any, *, allow_pickle: bool = False, verify: bool = False
) -> Any:
    """Load an artifact version's value through its recorded materializer.

    ``version`` (a view record) only names the version: its URI, materializer,
    data type and content hash are read from the event that recorded it. With
    ``verify`` the stored bytes are hashed first and must match that content hash.

    Raises:
        IntegrityError: the log records no such version, or ``verify`` and the
            bytes changed since they were recorded.
        ArtifactNotFoundError: the bytes are gone from the store.
    """
    recorded = recorded_version(context, version)
    label = f"artifact {recorded.label} ({recorded.artifact_version_id})"
    if version.deleted:
        _raise_if_deleted(context, recorded, label)
    try:
        return _load(context.artifacts, recorded, allow_pickle=allow_pickle, verify=verify)
    except IntegrityError as e:
        raise IntegrityError(
            f"{label}: {e}; do not trust this value, and run `lineagelog audit`"
        ) from None
    except ArtifactNotFoundError as e:
        _raise_if_deleted(context, recorded, label)  # deleted since ``version`` was read
        raise ArtifactNotFoundError(
            f"{label} is missing from the artifact store: {e}; "
            "run `lineagelog audit` to see what else is gone"
        ) from None
    except UnsafeLoadError:
        raise
    except UntrustedTypeError as e:
        raise UntrustedTypeError(f"cannot load {label}: {e}") from None
    except MaterializerError as e:
        # The materializer only knows its files: say which artifact, and how to check it.
        raise MaterializerError(
            f"cannot load {label} from {recorded.uri}: {e}; its bytes may be damaged: "
            "check them with load(verify=True) or `lineagelog audit`"
        ) from e
