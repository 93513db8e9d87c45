"""The errors a lineagelog user can meet.

Every error names the offending value and says what to do about it.
Driver errors are translated at the adapter boundary (``raise X from e``).

The tree (every error lives here, beside its siblings);
every one is exported from ``lineagelog.api``, and a test holds this drawing
equal to the real classes::

    LineageError
    ├── ConfigurationError           bad URL, unknown protocol, newer schema
    │   ├── GraphvizNotFoundError        no `dot` to render SVG, PNG or PDF with
    │   └── UnknownFormatError           a diagram format it cannot write
    ├── InvalidArtifactNameError     a name that could escape the store root
    ├── InvalidVersionError          a version name that cannot be used
    ├── DuplicateVersionError        a version name the artifact already has
    ├── ArtifactSourceError          data to register that holds the artifact store
    ├── PipelineDefinitionError      bad annotations, arguments, calls outside a pipeline
    ├── MaterializerError
    │   ├── NoMaterializerError      a type nobody can save
    │   ├── UnsafeLoadError          pickle without opting in
    │   └── UntrustedTypeError       a type or materializer named by data, not registered here
    ├── NotFoundError
    │   ├── RunNotFoundError
    │   ├── StepRunNotFoundError
    │   ├── ArtifactNotFoundError
    │   ├── LineageNodeNotFoundError     no lineage node with that id
    │   └── NoLineagePathError           two lineage nodes not on one path
    ├── StorageError                 the event store or artifact store failed
    │   └── ConcurrencyConflict          another writer appended to the stream first
    ├── IntegrityError               bytes or events that do not match the log
    ├── RunFailedError               a step raised; ``run_id`` says which run
    ├── InvalidLineageQueryError     a bad lineage direction, depth or position
    ├── LineageCycleError            a cycle the log cannot produce
    ├── ExportFormatError            a bad or truncated events file
    ├── DiagramRenderError           `dot` failed
    ├── AnchorFileError              a missing or malformed anchor file
    ├── RunAlreadyEndedError         a run ends exactly once
    ├── StepRunStateError            a command that does not fit the state
    ├── InvalidTagError              an unusable tag
    ├── DeletedVersionError          tagging a deleted version
    ├── VersionInUseError            pruning a version reused just now
    ├── InvalidRetentionError        a prune or gc setting that cannot apply
    └── SealMovedBackError           a seal covering less than the last
"""

from __future__ import annotations

from uuid import UUID

__all__ = [
    "AnchorFileError",
    "ArtifactNotFoundError",
    "ArtifactSourceError",
    "ConcurrencyConflict",
    "ConfigurationError",
    "DeletedVersionError",
    "DiagramRenderError",
    "DuplicateVersionError",
    "ExportFormatError",
    "GraphvizNotFoundError",
    "IntegrityError",
    "InvalidArtifactNameError",
    "InvalidLineageQueryError",
    "InvalidRetentionError",
    "InvalidTagError",
    "InvalidVersionError",
    "LineageCycleError",
    "LineageError",
    "LineageNodeNotFoundError",
    "MaterializerError",
    "NoLineagePathError",
    "NoMaterializerError",
    "NotFoundError",
    "PipelineDefinitionError",
    "RunAlreadyEndedError",
    "RunFailedError",
    "RunNotFoundError",
    "SealMovedBackError",
    "StepRunNotFoundError",
    "StepRunStateError",
    "StorageError",
    "UnknownFormatError",
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


class StorageError(LineageError):
    """The event store or the artifact store could not do what was asked."""


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


class InvalidLineageQueryError(LineageError, ValueError):
    """A lineage query argument (direction, depth, position) is not usable."""


class LineageCycleError(LineageError):
    """A lineage graph has a cycle, which the append-only log cannot produce."""


class ConcurrencyConflict(StorageError):
    """Another writer appended to the same stream first (optimistic concurrency)."""


class GraphvizNotFoundError(ConfigurationError):
    """The Graphviz ``dot`` program, needed to render SVG, PNG or PDF, is not installed."""


class UnknownFormatError(ConfigurationError, ValueError):
    """A diagram format that is neither DOT nor one ``dot`` renders here."""


class DiagramRenderError(LineageError):
    """``dot`` ran but failed to render the diagram."""


class ExportFormatError(LineageError):
    """An events file that is not a readable, complete ``lineagelog-events`` export."""


class AnchorFileError(LineageError):
    """An anchor file that cannot be read, written, or holds a line that is not an anchor."""


class InvalidTagError(LineageError, ValueError):
    """A tag that is empty, too long or contains control characters."""


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
