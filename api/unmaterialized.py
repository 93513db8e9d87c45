"""``UnmaterializedArtifact``: a step input handed over as its artifact version, not loaded.

Annotate a step parameter with it, as in ZenML, and the step receives the
upstream output's artifact version (``.uri``, ``.materializer``, ``.load()``...)
instead of the value its materializer would load; the lineage edge from the
version to the step run is recorded as for any input::

    @step
    def count_files(data: UnmaterializedArtifact) -> int:
        return len(fileio.listdir(data.uri))
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lineagelog.api.models import ArtifactVersion
from lineagelog.domain.errors import IntegrityError

if TYPE_CHECKING:
    from lineagelog.api.context import LineageContext

__all__ = ["UnmaterializedArtifact", "unmaterialized_input", "unmaterialized_parameters"]


class UnmaterializedArtifact(ArtifactVersion):
    """An artifact version passed to a step instead of its loaded value (ZenML's name)."""

    def __repr__(self) -> str:
        return f"UnmaterializedArtifact({self.name}:{self.version}, uri={self.uri!r})"


def unmaterialized_input(
    context: LineageContext, artifact_version_id: str
) -> UnmaterializedArtifact:
    """The artifact version ``artifact_version_id`` of this run's log, for a step input.

    Raises:
        IntegrityError: the catalog does not know a version the log recorded.
    """
    context.projector.catch_up(views=("catalog",))
    record = context.queries.artifact_versions_by_id([artifact_version_id]).get(artifact_version_id)
    if record is None:
        raise IntegrityError(
            f"artifact version {artifact_version_id} was recorded in the log but the catalog "
            "view does not show it; run `lineagelog projections rebuild`"
        )
    return UnmaterializedArtifact.from_record(context, record)


def unmaterialized_parameters(func: Callable[..., Any]) -> frozenset[str]:
    """The parameters annotated ``UnmaterializedArtifact``: they get the artifact version.

    Examples:
        >>> def count(data: UnmaterializedArtifact, n: int) -> int:
        ...     return n
        >>> sorted(unmaterialized_parameters(count))
        ['data']
    """
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # a forward reference that does not resolve here: read the raw names
        raw = getattr(func, "__annotations__", {})
        return frozenset(
            name
            for name, hint in raw.items()
            if name != "return"
            and (hint is UnmaterializedArtifact or hint == "UnmaterializedArtifact")
        )
    return frozenset(
        name
        for name, hint in hints.items()
        if name != "return" and isinstance(hint, type) and issubclass(hint, UnmaterializedArtifact)
    )
