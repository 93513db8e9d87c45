"""What a user types to name a run, a step run, an artifact version or a lineage node.

One resolver for the Client and the command line, so both accept the same
things and say the same when nothing matches:

- a full id (text or ``UUID``, any case);
- a unique id prefix of at least ``MIN_PREFIX`` characters, as git takes commits
  (the tables print eight); an ambiguous prefix lists its candidates;
- a run's name (for a run or a lineage node);
- ``name`` (the latest version) or ``name:version`` for an artifact version
  (names may hold ``:``, so only a trailing ``:<version>`` is a version).

Every lookup answers as of a log position when one is given.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from sqlalchemy import Column, select

from lineagelog.domain.errors import (
    AmbiguousReferenceError,
    ArtifactNotFoundError,
    LineageNodeNotFoundError,
    NotFoundError,
    RunNotFoundError,
    StepRunNotFoundError,
)
from lineagelog.domain.openlineage import dataset_node_id, job_node_id
from lineagelog.projections import schema as t

if TYPE_CHECKING:
    from lineagelog.projections.queries import ViewQueries
    from lineagelog.projections.records import ArtifactVersionRecord

__all__ = ["MIN_PREFIX", "References", "marquez_node_id", "split_version"]

MIN_PREFIX = 4
"""The fewest characters of an id that may stand for it (the tables print eight)."""

_HEX = re.compile(r"^[0-9a-fA-F-]+$")
_VERSIONED = re.compile(r"^(?P<name>.+):(?P<version>[^:]+)$")
_SHOWN = 5
Kind = Literal["run", "step run", "artifact version", "lineage node"]
_NOT_FOUND: dict[str, type[NotFoundError]] = {
    "run": RunNotFoundError,
    "step run": StepRunNotFoundError,
    "artifact version": ArtifactNotFoundError,
    "lineage node": LineageNodeNotFoundError,
}
_WHERE_TO_LOOK = {
    "run": "list runs with `lineagelog runs list` or Client().list_runs()",
    "step run": "see step run ids with `lineagelog runs show RUN` or Client().get_run(RUN).steps",
    "artifact version": "list artifacts with `lineagelog artifacts list` or "
    "Client().list_artifacts()",
    "lineage node": "a node is an artifact version ('name', 'name:version' or an id), a step run "
    "id, a run (id or name), or a node of OpenLineage events ('dataset:NAMESPACE:NAME', "
    "'job:NAMESPACE:NAME'); find them with `lineagelog artifacts list` and "
    "`lineagelog runs list`",
}


def split_version(text: str) -> tuple[str, str] | None:
    """Split ``name:version`` at its last ``:``; None when there is no version part.

    Examples:
        >>> split_version("model:3")
        ('model', '3')
        >>> split_version("training::load::output") is None
        True

    """
    match = _VERSIONED.match(text)
    if match is None or match.group("name").endswith(":"):
        return None
    return match.group("name"), match.group("version")


class References:
    """Resolve references against the views, as of ``as_of`` (None: now)."""

    def __init__(self, queries: ViewQueries, as_of: int | None = None) -> None:
        """Resolve through ``queries``."""
        self.queries = queries
        self.as_of = as_of

    # -- runs and step runs -------------------------------------------------------------

    def run(self, reference: UUID | str) -> str:
        """The id of the run named by its id, a unique id prefix or its run name.

        Raises:
            RunNotFoundError: nothing matches; says when the text is a pipeline name.
            AmbiguousReferenceError: the name or prefix matches several runs.

        """
        text = _text(reference)
        full = _full_id(text)
        runs = t.runs
        if full is not None:
            return self._existing(full, runs.c.id, runs.c.started_pos, "run")
        named = self._ids(runs.c.id, runs.c.started_pos, runs.c.run_name == text)
        if len(named) == 1:
            return named[0]
        if named:
            raise self._ambiguous("run", f"run name {text!r}", named)
        found = self._by_prefix(text, runs.c.id, runs.c.started_pos, "run")
        if found is not None:
            return found
        pipelines = self._ids(runs.c.pipeline, runs.c.started_pos, runs.c.pipeline == text)
        if pipelines:
            raise RunNotFoundError(
                f"{text!r} is a pipeline name, not a run name; its runs are "
                f"Client().get_pipeline({text!r}).runs (newest first) and "
                f"`lineagelog runs list --pipeline {text}`"
            )
        raise self._not_found("run", text)

    def step_run(self, reference: UUID | str) -> str:
        """The id of the step run named by its id or a unique id prefix.

        Raises:
            StepRunNotFoundError: nothing matches; says when the text is a step's name.
            AmbiguousReferenceError: the prefix matches several step runs.

        """
        text = _text(reference)
        full = _full_id(text)
        sr = t.step_runs
        if full is not None:
            return self._existing(full, sr.c.id, sr.c.started_pos, "step run")
        found = self._by_prefix(text, sr.c.id, sr.c.started_pos, "step run")
        if found is not None:
            return found
        if self._ids(sr.c.id, sr.c.started_pos, sr.c.invocation_id == text):
            raise StepRunNotFoundError(
                f"{text!r} is a step's name, not a step run id: a step runs once per run; "
                f"take it from its run, Client().get_pipeline_run(RUN).steps[{text!r}], or copy "
                "its id from `lineagelog runs show RUN`"
            )
        raise self._not_found("step run", text)

    # -- artifact versions ----------------------------------------------------------------

    def artifact_version(
        self, reference: UUID | str, version: int | str | None = None
    ) -> ArtifactVersionRecord:
        """The artifact version named by ``reference`` (and ``version``).

        With ``version``, ``reference`` is the artifact's name. Without it,
        ``reference`` is an id, ``name:version``, ``name`` (the latest version)
        or a unique id prefix, tried in that order.

        Raises:
            ArtifactNotFoundError: nothing matches, naming what was tried.
            AmbiguousReferenceError: the prefix matches several versions.

        """
        text = _text(reference)
        if version is not None:
            return self._named(text, _version_number(version, text))
        full = _full_id(text)
        av = t.artifact_versions
        if full is not None:
            found = self.queries.artifact_versions_by_id([full], self.as_of).get(full)
            if found is None:
                raise self._not_found("artifact version", text)
            return found
        try:
            return self._by_name(text)
        except ArtifactNotFoundError as e:
            if not _HEX.match(text):
                raise  # it cannot be an id prefix: what the name lookup says is the answer
            prefix = self._by_prefix(text, av.c.id, av.c.position, "artifact version")
            if prefix is not None:
                return self.queries.artifact_versions_by_id([prefix], self.as_of)[prefix]
            raise ArtifactNotFoundError(
                f"{text!r} names no artifact version{self._when()} ({e}); an artifact version "
                f"is named 'name', 'name:version', an id, or an id prefix of at least "
                f"{MIN_PREFIX} characters"
            ) from e

    def _by_name(self, text: str) -> ArtifactVersionRecord:
        """``name:version``, else the whole text as a name (its latest version)."""
        split = split_version(text)
        if split is None:
            return self._named(text, None)
        try:
            number = _version_number(split[1], text)
        except ArtifactNotFoundError as bad_version:
            try:
                return self._named(text, None)  # a name that holds ':'
            except ArtifactNotFoundError:
                if self._ids(
                    t.artifact_versions.c.name,
                    t.artifact_versions.c.position,
                    t.artifact_versions.c.name == split[0],
                ):
                    raise bad_version from None  # the name exists: the version is wrong
                raise
        try:
            return self._named(split[0], number)
        except ArtifactNotFoundError as e:
            try:
                return self._named(text, None)
            except ArtifactNotFoundError:
                raise e from None

    def _named(self, name: str, version: str | None) -> ArtifactVersionRecord:
        return self.queries.get_artifact_version(name, version, as_of=self.as_of)

    # -- lineage nodes ---------------------------------------------------------------------

    def node(self, reference: UUID | str) -> str:
        """The lineage node id named by an id or prefix, an artifact reference or a run name.

        Raises:
            LineageNodeNotFoundError: nothing matches, naming what a node can be.
            AmbiguousReferenceError: the prefix matches several nodes.

        """
        text = _text(reference)
        n = t.lineage_nodes
        address = marquez_node_id(text)
        if address is not None:
            return self._existing(address, n.c.id, n.c.position, "lineage node", text)
        full = _full_id(text)
        if full is not None:
            return self._existing(full, n.c.id, n.c.position, "lineage node")
        try:
            return self._by_name(text).id
        except ArtifactNotFoundError as e:
            artifact_error = e
        named = self._ids(t.runs.c.id, t.runs.c.started_pos, t.runs.c.run_name == text)
        if len(named) == 1:
            return named[0]
        found = self._by_prefix(text, n.c.id, n.c.position, "lineage node")
        if found is not None:
            return found
        raise LineageNodeNotFoundError(
            f"{text!r} names no lineage node{self._when()} ({artifact_error}); "
            + _WHERE_TO_LOOK["lineage node"]
        ) from artifact_error

    # -- helpers -----------------------------------------------------------------------------

    def _when(self) -> str:
        return "" if self.as_of is None else f" as of position {self.as_of}"

    def _ids(self, column: Column[Any], position: Column[Any], *where: Any) -> list[str]:
        query = select(column).where(*where).distinct()
        if self.as_of is not None:
            query = query.where(position <= self.as_of)
        with self.queries._connect() as conn:
            return [str(value) for value in conn.scalars(query.limit(_SHOWN + 1))]

    def _existing(
        self,
        full: str,
        column: Column[Any],
        position: Column[Any],
        kind: Kind,
        typed: str | None = None,
    ) -> str:
        if self._ids(column, position, column == full):
            return full
        raise self._not_found(kind, typed or full)

    def _by_prefix(
        self, text: str, column: Column[Any], position: Column[Any], kind: Kind
    ) -> str | None:
        """The one id starting with ``text``; None when ``text`` is no id prefix or matches none.

        A hexadecimal text shorter than ``MIN_PREFIX`` is an error stating the rule.
        """
        if not _HEX.match(text):
            return None
        if len(text) < MIN_PREFIX:
            raise _NOT_FOUND[kind](
                f"{kind} id prefix {text!r} is too short: give at least {MIN_PREFIX} characters "
                f"of the id (the tables print eight); {_WHERE_TO_LOOK[kind]}"
            )
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        matches = self._ids(column, position, column.like(f"{escaped}%", escape="\\"))
        if len(matches) > 1:
            raise self._ambiguous(kind, f"{kind} id prefix {text!r}", matches)
        return matches[0] if matches else None

    def _ambiguous(self, kind: Kind, what: str, matches: list[str]) -> AmbiguousReferenceError:
        shown = ", ".join(matches[:_SHOWN]) + (", ..." if len(matches) > _SHOWN else "")
        return AmbiguousReferenceError(
            f"{what} names more than one {kind}{self._when()}: {shown}; "
            "give more characters of the id, or the full id",
            candidates=tuple(matches[:_SHOWN]),
        )

    def _not_found(self, kind: Kind, text: str) -> NotFoundError:
        forms = {
            "run": "id, id prefix or run name",
            "step run": "id or id prefix",
            "artifact version": "id or id prefix",
            "lineage node": "id, id prefix, name or dataset:/job: address",
        }[kind]
        return _NOT_FOUND[kind](
            f"no {kind} with the {forms} {text!r}{self._when()}; {_WHERE_TO_LOOK[kind]}"
        )


def _text(reference: UUID | str) -> str:
    if isinstance(reference, UUID):
        return str(reference)
    if not isinstance(reference, str):
        raise NotFoundError(
            f"a reference is an id, a name or 'name:version' as text (or a UUID), "
            f"got {type(reference).__name__} {reference!r}"
        )
    return reference.strip()


def marquez_node_id(text: str) -> str | None:
    """The node id of a Marquez address (``dataset:NS:NAME``, ``job:NS:NAME``), else None.

    The namespace may hold ``:`` itself (``s3://bucket``): a namespace with a scheme
    runs to the first ``:`` after its ``://``.

    Examples:
        >>> marquez_node_id("dataset:s3://bucket:raw/x") == dataset_node_id("s3://bucket", "raw/x")
        True
        >>> marquez_node_id("model:3") is None
        True

    """
    kind, _, rest = text.partition(":")
    if kind not in ("dataset", "job") or not rest:
        return None
    scheme = rest.find("://")
    skip = scheme + 3 if scheme != -1 and scheme == rest.find(":") else 0
    cut = rest.find(":", skip)
    if cut <= 0:
        return None
    namespace, name = rest[:cut], rest[cut + 1 :]
    return (dataset_node_id if kind == "dataset" else job_node_id)(namespace, name)


def _full_id(text: str) -> str | None:
    try:
        return str(UUID(text)) if len(text) >= 32 else None
    except ValueError:
        return None


def _version_number(version: int | str, reference: str) -> str:
    """A version as the catalog names it: its name (``"1.0"``), or its number (1, 2, 3...)."""
    text = str(version).strip()
    if isinstance(version, bool) or not text or (text.isdigit() and int(text) < 1):
        raise ArtifactNotFoundError(
            f"artifact version {version!r} of {reference!r} is neither a version name nor a "
            "version number; versions are 1, 2, 3... or names such as 1.0 (e.g. model:3)"
        )
    return text
