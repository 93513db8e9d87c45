"""The errors a lineagelog user can meet.

Every error names the offending value and says what to do about it.
Driver errors are translated at the adapter boundary (``raise X from e``).

The tree (every error lives here, beside its siblings);
every one is exported from ``lineagelog.api``, and a test holds this drawing
equal to the real classes::

    LineageError
    ├── ConfigurationError           bad URL, unknown protocol, newer schema
    │   ├── GraphvizNotFoundError        no `dot` to render SVG, PNG or PDF with
    │   ├── UnknownFormatError           a diagram format it cannot write
    │   └── UnprotectedServerError       serving off loopback without a token
    ├── InvalidArtifactNameError     a name that could escape the store root
    ├── InvalidVersionError          a version name that cannot be used
    ├── DuplicateVersionError        a version name the artifact already has
    ├── ArtifactSourceError          data to register that holds the artifact store
    ├── PipelineDefinitionError      bad annotations, arguments, calls outside a pipeline
    ├── StepContextError             the step context outside a step, or an output it lacks
    ├── InvalidMetadataError         metadata that is not a metadata type, or has no target
    ├── MaterializerError
    │   ├── NoMaterializerError      a type nobody can save
    │   ├── UnsafeLoadError          pickle without opting in
    │   └── UntrustedTypeError       a type or materializer named by data, not registered here
    ├── NotFoundError
    │   ├── RunNotFoundError
    │   ├── StepRunNotFoundError
    │   ├── ArtifactNotFoundError
    │   ├── LineageNodeNotFoundError     no lineage node with that id
    │   ├── NoLineagePathError           two lineage nodes not on one path
    │   ├── PipelineNotFoundError        no run of a pipeline with that name
    │   ├── DatabaseNotFoundError        a read command where no database exists
    │   └── AmbiguousReferenceError      an id prefix or name that names several things
    ├── StorageError                 the event store or artifact store failed
    │   ├── ConcurrencyConflict          another writer appended to the stream first
    │   └── ArtifactUriError             a recorded artifact URI that leads out of the store
    ├── IntegrityError               bytes or events that do not match the log
    ├── RunFailedError               a step raised; ``run_id`` says which run
    ├── ExecutorError                the executor cannot run the steps (no cluster, bad option)
    │   ├── UnreachableStoreError        an artifact store the workers cannot reach
    │   └── StepNotSerializableError     a step that cannot travel to the workers
    ├── InvalidLineageQueryError     a bad lineage direction, depth or position
    ├── InvalidFilterError           a listing filter (status, outcome) no row can have
    ├── DownloadPathError            download_files to a path that is not a .zip
    ├── DownloadTargetExistsError    download_files onto a file, without overwrite=True
    ├── LineageCycleError            a cycle the log cannot produce
    ├── ExportFormatError            a bad or truncated events file
    ├── InvalidOpenLineageEventError an OpenLineage event the specification refuses
    ├── OpenLineageDeliveryError     an OpenLineage consumer that refused or was unreachable
    ├── DiagramRenderError           `dot` failed
    ├── AnchorFileError              a missing or malformed anchor file
    ├── RunAlreadyEndedError         a run ends exactly once
    ├── StepRunStateError            a command that does not fit the state
    ├── InvalidTagError              an unusable tag
    ├── InvalidTagTargetError        add_tags/remove_tags not naming one thing to tag
    ├── DeletedVersionError          tagging a deleted version
    ├── VersionInUseError            pruning a version reused just now
    ├── InvalidRetentionError        a prune or gc setting that cannot apply
    ├── InvalidComparisonError       a diff of two things that cannot be compared
    └── SealMovedBackError           a seal covering less than the last
"""

from __future__ import annotations

from uuid import UUID

__all__ = [
    "AmbiguousReferenceError",
    "AnchorFileError",
    "ArtifactNotFoundError",
    "ArtifactSourceError",
    "ArtifactUriError",
    "ConcurrencyConflict",
    "ConfigurationError",
    "DatabaseNotFoundError",
    "DeletedVersionError",
    "DiagramRenderError",
    "DownloadPathError",
    "DownloadTargetExistsError",
    "DuplicateVersionError",
    "ExecutorError",
    "ExportFormatError",
    "GraphvizNotFoundError",
    "IntegrityError",
    "InvalidArtifactNameError",
    "InvalidComparisonError",
    "InvalidFilterError",
    "InvalidLineageQueryError",
    "InvalidMetadataError",
    "InvalidOpenLineageEventError",
    "InvalidRetentionError",
    "InvalidTagError",
    "InvalidTagTargetError",
    "InvalidVersionError",
    "LineageCycleError",
    "LineageError",
    "LineageNodeNotFoundError",
    "MaterializerError",
    "NoLineagePathError",
    "NoMaterializerError",
    "NotFoundError",
    "OpenLineageDeliveryError",
    "PipelineDefinitionError",
    "PipelineNotFoundError",
    "RunAlreadyEndedError",
    "RunFailedError",
    "RunNotFoundError",
    "SealMovedBackError",
    "StepContextError",
    "StepNotSerializableError",
    "StepRunNotFoundError",
    "StepRunStateError",
    "StorageError",
    "UnknownFormatError",
    "UnprotectedServerError",
    "UnreachableStoreError",
    "UnsafeLoadError",
    "UntrustedTypeError",
    "VersionInUseError",
]


class LineageError(Exception):
    """Root of every error lineagelog raises on purpose."""


class ConfigurationError(LineageError):
    """A setting (database URL, artifact store, environment variable) is unusable."""


class InvalidArtifactNameError(LineageError, ValueError):
    """An artifact name that is empty, too long, or could escape the store root."""


class InvalidVersionError(LineageError, ValueError):
    """A version name that is empty, too long, has a ``:``, or is another version's number."""


class DuplicateVersionError(LineageError):
    """A version name the artifact already has: every version name is given once."""


class ArtifactSourceError(LineageError, ValueError):
    """Data to register or save that holds the artifact store itself (it would copy into itself)."""


class PipelineDefinitionError(LineageError):
    """A step or pipeline is defined or called in a way that cannot run."""


class StepContextError(LineageError, RuntimeError):
    """The step context was asked for outside a step, or for an output the step lacks."""


class InvalidMetadataError(LineageError, ValueError):
    """Metadata whose values are not metadata types, or a call that names no target."""


class MaterializerError(LineageError):
    """Saving or loading an artifact through its materializer failed."""


class NoMaterializerError(MaterializerError, TypeError):
    """No materializer is registered for a step output's type."""


class UnsafeLoadError(MaterializerError):
    """Loading would unpickle data although the user did not opt in."""


class UntrustedTypeError(MaterializerError):
    """A class named by an event, a view row or a stored file that this process did not register.

    Loading resolves such names only against registered materializers, the
    types they declare and classes already imported; it never imports a module
    a name points at, since whoever can write the log or the store chooses it.
    """


class NotFoundError(LineageError, LookupError):
    """Something asked for by id, name or version does not exist."""


class RunNotFoundError(NotFoundError):
    """No pipeline run with the given id."""


class StepRunNotFoundError(NotFoundError):
    """No step run with the given id."""


class ArtifactNotFoundError(NotFoundError):
    """No artifact (version) with the given name, version or id."""


class LineageNodeNotFoundError(NotFoundError):
    """No lineage node (artifact version, step run or run) with the given id."""


class NoLineagePathError(NotFoundError):
    """Two lineage nodes are neither upstream nor downstream of each other."""


class PipelineNotFoundError(NotFoundError):
    """No run of a pipeline with the given name (pipelines are known by their runs)."""


class DatabaseNotFoundError(NotFoundError):
    """A read command found no database where the settings point; nothing was created."""


class AmbiguousReferenceError(NotFoundError):
    """An id prefix or a name that names more than one thing; ``candidates`` lists them."""

    def __init__(self, message: str, candidates: tuple[str, ...]) -> None:
        super().__init__(message)
        self.candidates = candidates


class StorageError(LineageError):
    """The event store or the artifact store could not do what was asked."""


class ArtifactUriError(StorageError):
    """An artifact URI read from the log or the views that would lead out of the artifact store.

    URIs are recorded relative to the store's root (``model/<version id>``); one
    holding ``..``, an absolute path or another scheme is refused, never followed.
    """


class IntegrityError(LineageError):
    """Stored bytes or events do not match what the log recorded."""


class RunFailedError(LineageError):
    """A pipeline run failed because one of its steps raised.

    The original exception is the ``__cause__``; ``run_id`` is the failed run.
    """

    def __init__(self, message: str, run_id: UUID, failed_step: str) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.failed_step = failed_step


class ExecutorError(LineageError):
    """The executor cannot run the steps: no cluster at the address, a bad executor option."""


class UnreachableStoreError(ExecutorError):
    """The workers cannot reach the artifact store (``memory://``, a folder they do not see)."""


class StepNotSerializableError(ExecutorError):
    """A step function (or a parameter of it) cannot be sent to the workers."""


class InvalidLineageQueryError(LineageError, ValueError):
    """A lineage query argument (direction, depth, position) is not usable."""


class InvalidFilterError(LineageError, ValueError):
    """A listing filter (a run or step status, a cache outcome) that is not one of its values."""


class DownloadPathError(LineageError, ValueError):
    """``download_files`` was given a path that does not end in ``.zip``, as in ZenML."""


class DownloadTargetExistsError(LineageError, FileExistsError):
    """``download_files`` would overwrite an existing file without ``overwrite=True``."""


class LineageCycleError(LineageError):
    """A lineage graph has a cycle, which the append-only log cannot produce."""


class ConcurrencyConflict(StorageError):
    """Another writer appended to the same stream first (optimistic concurrency)."""


class GraphvizNotFoundError(ConfigurationError):
    """The Graphviz ``dot`` program, needed to render SVG, PNG or PDF, is not installed."""


class UnknownFormatError(ConfigurationError, ValueError):
    """A diagram format that is neither DOT nor one ``dot`` renders here."""


class UnprotectedServerError(ConfigurationError):
    """The lineage server asked to listen beyond loopback without a token to require."""


class DiagramRenderError(LineageError):
    """``dot`` ran but failed to render the diagram."""


class ExportFormatError(LineageError):
    """An events file that is not a readable, complete ``lineagelog-events`` export."""


class InvalidOpenLineageEventError(LineageError, ValueError):
    """An OpenLineage event that does not validate; ``field`` is the JSON path that failed."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class OpenLineageDeliveryError(LineageError):
    """An OpenLineage consumer refused events or could not be reached."""


class AnchorFileError(LineageError):
    """An anchor file that cannot be read, written, or holds a line that is not an anchor."""


class InvalidTagError(LineageError, ValueError):
    """A tag that is empty, too long or contains control characters."""


class InvalidTagTargetError(LineageError, ValueError):
    """``add_tags`` / ``remove_tags`` given no target outside a step, or targets that clash."""


class VersionInUseError(LineageError):
    """A retention policy would delete a version a cache hit reused within its window."""


class DeletedVersionError(LineageError):
    """A command needs a version that was deleted (tombstoned)."""


class StepRunStateError(LineageError):
    """A command does not fit where the step run stands (e.g. writing after it ended)."""


class RunAlreadyEndedError(LineageError):
    """A command tried to change a run that has already completed or failed."""


class SealMovedBackError(LineageError):
    """A seal would cover fewer events than the seal before it."""


class InvalidRetentionError(LineageError, ValueError):
    """A retention setting (``keep``, ``min_age``, a window or bound) that cannot be applied."""


class InvalidComparisonError(LineageError, ValueError):
    """A diff of a run with an artifact version, or of names that could be either."""
