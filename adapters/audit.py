"""The audit: recompute every hash chain and seal from the raw log, and hash the artifacts.

One pass over the stored notifications, in log order, checks:

- every stream's versions run 1, 2, 3... with no gap, repeat or reordering;
- every event's ``previous_hash`` equals the recomputed hash of its
  predecessor in the stream (``GENESIS_HASH`` for the first), so a changed
  byte in any event but the last of its stream shows at its successor;
- every payload still decodes;
- every seal: the running digest over the first ``event_count`` events equals
  the seal's ``digest``, the last of them sits at ``up_to_position``, and each
  seal chains to the one before. This catches what the stream chains cannot:
  the last event of a stream changed or deleted, whole streams deleted or
  inserted, events reordered across streams.

With an artifact store it also hashes every artifact version recorded in the
log (and not deleted since) and compares with the recorded content hash.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.hash_pool import HashedRange, Keep, hashed_ranges
from lineagelog.adapters.raw_events import RawEvent, hashed
from lineagelog.adapters.stored_events import UndecodableEvent, stream_hex
from lineagelog.adapters.stream_heads import StreamHeads
from lineagelog.domain.artifact_uri import portable_uri
from lineagelog.domain.base import GENESIS_HASH
from lineagelog.domain.errors import LineageError
from lineagelog.domain.seal import SEAL_GENESIS, SEAL_STREAM_ID, advance_digest

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore
    from lineagelog.adapters.event_store import EventStore

__all__ = [
    "KEEP_CONTENT",
    "KEEP_SEALS",
    "AuditProblem",
    "AuditReport",
    "LogChecker",
    "audit_log",
]

_PAGE = 5000
_MAX_PROBLEMS = 10_000
_SEALED = ":LogSeal.Sealed"
_SEAL_STREAM = SEAL_STREAM_ID.hex
_WRITTEN = (":StepRun.ArtifactWritten", ":ArtifactName.ExternalVersionRegistered")
_DELETED = ":ArtifactName.VersionDeleted"
_SEAL_FIELDS = ("up_to_position", "event_count", "digest", "previous_digest")
KEEP_SEALS = Keep(topics=(_SEALED,), fields=_SEAL_FIELDS)
"""What checking the seals reads of the payloads (of the other events, ``previous_hash``)."""
KEEP_CONTENT = Keep(
    topics=(_SEALED, *_WRITTEN, _DELETED),
    fields=(*_SEAL_FIELDS, "artifact_version_id", "name", "version", "uri", "content_hash"),
)
"""What checking the seals and then the artifact versions' bytes reads of the payloads."""

Progress = Callable[[int, int], None]
"""Called after each page with (events checked so far, events in the log)."""

RangeHook = Callable[["LogChecker"], None]
"""Called after each range is checked, before the digests of sealed events are forgotten."""


@dataclass(frozen=True)
class AuditProblem:
    """One thing wrong, naming where: a stream and position, or an artifact."""

    kind: str
    message: str
    stream: str | None = None
    position: int | None = None
    artifact: str | None = None


@dataclass(frozen=True)
class AuditReport:
    """What an audit checked and every problem it found (``ok`` when there are none)."""

    events_checked: int
    artifacts_checked: int
    seals_checked: int
    problems: list[AuditProblem]
    unsealed_tail: int
    """Events after the last seal: their deletion or change cannot be proven yet."""
    last_seal_position: int | None
    digest: str
    """The running digest over the whole log (what a seal written now would hold)."""
    seconds: float
    problems_truncated: bool = False
    anchors_checked: int = 0
    """Anchors (seals kept outside the log) the log was checked against."""
    views_position: int | None = None
    """The log position the live views were compared at with a rebuild; None: not compared."""

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


@dataclass
class _Artifact:
    name: str
    version: int
    uri: str
    content_hash: str
    position: int


@dataclass
class LogChecker:
    """The audit's state while it walks the log: stream heads, running digest, seals seen."""

    problems: list[AuditProblem] = field(default_factory=list)
    truncated: bool = False
    heads: StreamHeads = field(default_factory=StreamHeads)
    count: int = 0
    running: bytes = bytes.fromhex(SEAL_GENESIS)
    # running digest and position after each event from ordinal ``base + 1`` on
    digests: list[tuple[bytes, int]] = field(default_factory=list)
    # what each of those events folded in (stream, version, hash), to fold again from a seal
    links: list[tuple[str, int, str]] = field(default_factory=list)
    base: int = 0
    pending: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    seals_checked: int = 0
    last_seal_digest: str = SEAL_GENESIS
    last_seal_count: int = 0
    last_seal_position: int | None = None
    artifacts: dict[str, _Artifact] = field(default_factory=dict)
    # ordinal of the last event outside the seal stream: what a new seal would cover
    last_sealable: int = 0
    # positions a broken link already blamed, and seals that disagree with the log
    blamed: set[int] = field(default_factory=set)
    mismatches: list[tuple[int, str, int, int]] = field(default_factory=list)

    def problem(self, kind: str, message: str, **where: Any) -> None:
        """Record a problem (up to a bound, past which the report says it was cut)."""
        if len(self.problems) >= _MAX_PROBLEMS:
            self.truncated = True
            return
        self.problems.append(AuditProblem(kind, message, **where))

    # -- one event -----------------------------------------------------------

    def event(
        self, position: int, originator_id: Any, version: int, topic: str, state: bytes
    ) -> None:
        """Decode, hash and check one stored event."""
        try:
            raw = hashed(position, originator_id, version, topic, state)
        except UndecodableEvent as e:
            stream = stream_hex(originator_id)
            fold = "undecodable:" + hashlib.sha256(state).hexdigest()
            self.undecodable(position, stream, version, topic, fold, str(e))
            return
        self.accept(raw)

    def undecodable(
        self, position: int, stream: str, version: int, topic: str, fold: str, error: str
    ) -> None:
        """Record an event whose payload does not decode; ``fold`` stands in for its hash."""
        self.problem(
            "undecodable",
            f"the event at position {position} (stream {stream} version {version}, {topic}) "
            f"is corrupt: {error}",
            stream=stream,
            position=position,
        )
        self.count += 1
        self.last_sealable = self.count
        self._chain(stream, version, position, None, None)
        self.fold(stream, version, fold, position)

    def accept(self, raw: RawEvent) -> None:
        """Check one already-hashed event (``event`` without the decoding)."""
        self.count += 1
        if raw.stream_id != _SEAL_STREAM:
            self.last_sealable = self.count
        self._chain(
            raw.stream_id, raw.version, raw.position, raw.content.get("previous_hash"), raw.hash
        )
        self.fold(raw.stream_id, raw.version, raw.hash, raw.position)
        self._note(raw.topic, raw.content, raw.position)

    def accept_range(self, hashed: HashedRange) -> None:
        """Check a range of already-hashed events, in log order."""
        undecodable, chain, digests = hashed.undecodable, self._chain, self.digests
        links = self.links
        running = self.running  # ``fold`` inlined: this loop runs once per event of the log
        before = self.count
        for index, (position, stream, version, event_hash, claimed) in enumerate(hashed.events):
            if index in undecodable:
                topic, error = undecodable[index]
                self.running = running
                self.undecodable(position, stream, version, topic, event_hash, error)
                running = self.running
                continue
            chain(stream, version, position, claimed, event_hash)
            running = advance_digest(running, stream, version, event_hash)
            digests.append((running, position))
            links.append((stream, version, event_hash))
        self.running = running
        self.count += len(hashed.events) - len(undecodable)
        for index in range(len(hashed.events) - 1, -1, -1):
            if hashed.events[index][1] != _SEAL_STREAM:
                self.last_sealable = max(self.last_sealable, before + index + 1)
                break
        for index, topic, content in hashed.kept:
            self._note(topic, content, hashed.events[index][0])

    def _chain(
        self, stream: str, version: int, position: int, claimed: object, own: str | None
    ) -> None:
        head = self.heads.get(stream)
        if head is None:
            if version == 1 and claimed in (GENESIS_HASH, None):  # a stream begins, as it should
                self.heads[stream] = (version, own, position)
                return
        elif version == head[0] + 1 and (claimed is None or claimed == head[1] or head[1] is None):
            self.heads[stream] = (version, own, position)  # the next link, as it should be
            return
        self._broken_link(stream, version, position, claimed, own, head)

    def _broken_link(
        self,
        stream: str,
        version: int,
        position: int,
        claimed: object,
        own: str | None,
        head: tuple[int, str | None, int] | None,
    ) -> None:
        expected_version = head[0] + 1 if head is not None else 1
        where = f"stream {stream} version {version} at position {position}"
        if version != expected_version:
            before = f"version {head[0]} at position {head[2]}" if head else "nothing"
            self.problem(
                "stream-order",
                f"{where} follows {before} in its stream; version {expected_version} is "
                "missing, or events were deleted, reordered or inserted",
                stream=stream,
                position=position,
            )
        elif claimed is not None:
            expected = head[1] if head is not None else GENESIS_HASH
            if expected is not None and claimed != expected:
                before = (
                    f"its predecessor at position {head[2]} hashes to {expected[:16]}..., "
                    "so the predecessor was modified or this event was forged"
                    if head is not None
                    else "a stream's first event must record the genesis hash, so it was forged"
                )
                self.problem(
                    "hash-chain",
                    f"{where} records previous hash {str(claimed)[:16]}... but {before}",
                    stream=stream,
                    position=position,
                )
                self.blamed.add(position)
                if head is not None:
                    self.blamed.add(head[2])
        if head is None or version > head[0]:
            self.heads[stream] = (version, own, position)

    def fold(self, stream: str, version: int, event_hash: str, position: int) -> None:
        """Advance the running digest over one event."""
        self.running = advance_digest(self.running, stream, version, event_hash)
        self.digests.append((self.running, position))
        self.links.append((stream, version, event_hash))

    def _note(self, topic: str, c: dict[str, Any], position: int) -> None:
        if topic.endswith(_SEALED):
            self.pending.append((position, c))
        elif topic.endswith(_WRITTEN):
            avid = str(c.get("artifact_version_id"))
            self.artifacts[avid] = _Artifact(
                str(c.get("name")),
                _integer(c.get("version")) or 0,
                portable_uri(str(c.get("uri")), str(c.get("name")), avid),
                str(c.get("content_hash")),
                position,
            )
        elif topic.endswith(_DELETED):
            self.artifacts.pop(str(c.get("artifact_version_id")), None)

    # -- seals ---------------------------------------------------------------

    def seals(self, *, final: bool = False) -> None:
        """Check the seals whose range has been read (``final``: all of them)."""
        still: list[tuple[int, dict[str, Any]]] = []
        for position, seal in self.pending:
            count = _integer(seal.get("event_count"))
            if count is None or _integer(seal.get("up_to_position")) is None:
                self._malformed_seal(position, seal)
                continue
            if count > self.count:
                if final:
                    self._seal_beyond(position, seal, count)
                else:
                    still.append((position, seal))
                continue
            self._check_seal(position, seal, count)
        self.pending = still
        if not still and len(self.digests) > 4 * _PAGE:
            # no seal can reach back before the last one checked
            keep = max(0, self.last_seal_count - self.base - 1)
            del self.digests[:keep]
            del self.links[:keep]
            self.base += keep

    def _check_seal(self, position: int, seal: dict[str, Any], count: int) -> None:
        self.seals_checked += 1
        claimed, up_to = str(seal.get("digest")), int(seal["up_to_position"])
        span = f"the seal at position {position} (covering {count} events up to position {up_to})"
        if str(seal.get("previous_digest")) != self.last_seal_digest:
            self.problem(
                "seal-chain",
                f"{span} does not continue the seal before it: a seal was deleted or forged",
                position=position,
            )
        if count < self.last_seal_count:
            self.problem(
                "seal", f"{span} covers fewer events than the seal before it", position=position
            )
        else:
            actual, at = self.digests[count - self.base - 1] if count > 0 else (bytes(32), 0)
            since = (
                f"after position {self.last_seal_position}"
                if self.last_seal_position
                else "from the start"
            )
            if actual.hex() != claimed:
                start = self.last_seal_position or 0
                self.mismatches.append(
                    (
                        position,
                        f"{span} does not match the log: an event "
                        f"{since} up to position {up_to} was modified, deleted, inserted or "
                        "reordered",
                        start,
                        up_to,
                    )
                )
                self._fold_again_from(count, claimed)
            elif at != up_to:
                self.problem(
                    "seal",
                    f"{span} matches the events' content but the last of them is at position {at}: "
                    "the log's positions were renumbered",
                    position=position,
                )
        self.last_seal_digest = claimed
        self.last_seal_count = max(self.last_seal_count, count)
        self.last_seal_position = up_to

    def _fold_again_from(self, count: int, claimed: str) -> None:
        """Go on from the digest a disagreeing seal claims for its first ``count`` events.

        The seal's digest is what the log held when it was sealed, so the events
        after it are checked against the later seals on their own: one modified
        event is reported once, not again by every seal after it.
        """
        try:
            running = bytes.fromhex(claimed)
        except ValueError:
            return  # a forged seal's digest: nothing to go on from
        if len(running) != len(self.running) or count - self.base < 0:
            return
        for index in range(count - self.base, len(self.digests)):
            running = advance_digest(running, *self.links[index])
            self.digests[index] = (running, self.digests[index][1])
        self.running = running

    def report_mismatches(self) -> None:
        """Report each disagreeing seal whose range holds no event a broken link already blamed."""
        for position, message, start, up_to in self.mismatches:
            if not any(start < blamed <= up_to for blamed in self.blamed):
                self.problem("seal", message, position=position)
        self.mismatches = []
        self.problems.sort(key=lambda p: (p.position is None, p.position or 0))

    def _malformed_seal(self, position: int, seal: dict[str, Any]) -> None:
        self.seals_checked += 1
        fields = ", ".join(
            f"{field} {seal.get(field)!r}"
            for field in ("event_count", "up_to_position")
            if _integer(seal.get(field)) is None
        )
        self.problem(
            "seal",
            f"the seal at position {position} has {fields}, not a whole number: "
            "the seal was forged or damaged, and the range it claims to cover is unknown",
            position=position,
        )

    def _seal_beyond(self, position: int, seal: dict[str, Any], count: int) -> None:
        self.seals_checked += 1
        self.problem(
            "seal",
            f"the seal at position {position} covers {count} events up to position "
            f"{seal.get('up_to_position')} but the log holds only {self.count}: events were "
            "deleted from the sealed range",
            position=position,
        )
        self.last_seal_digest = str(seal.get("digest"))
        self.last_seal_count = max(self.last_seal_count, count)

    # -- artifacts -------------------------------------------------------------

    def verify_artifacts(self, store: ArtifactStore, workers: int = 4) -> int:
        """Hash every live artifact version seen in the log; return how many were checked."""
        items = list(self.artifacts.items())

        def check(item: tuple[str, _Artifact]) -> AuditProblem | None:
            avid, a = item
            label = f"{a.name}:{a.version}"
            try:
                actual, _ = store.content_hash(store.locate(a.uri))
            except FileNotFoundError:
                return AuditProblem(
                    "artifact-missing",
                    f"artifact {label} ({avid}) is missing from the store at {a.uri}; "
                    f"recorded at position {a.position}",
                    position=a.position,
                    artifact=avid,
                )
            except (LineageError, OSError) as e:
                return AuditProblem(
                    "artifact-unreadable",
                    f"artifact {label} ({avid}) at {a.uri} cannot be read: {e}",
                    position=a.position,
                    artifact=avid,
                )
            if actual != a.content_hash:
                return AuditProblem(
                    "artifact-modified",
                    f"artifact {label} ({avid}) at {a.uri} hashes to {actual[:16]}... but the "
                    f"log recorded {a.content_hash[:16]}... at position {a.position}: "
                    "its bytes changed",
                    position=a.position,
                    artifact=avid,
                )
            return None

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for found in pool.map(check, items):
                if found is not None:
                    self.problem(
                        found.kind, found.message, position=found.position, artifact=found.artifact
                    )
        return len(items)


def audit_log(
    events: EventStore,
    artifacts: ArtifactStore | None = None,
    *,
    until: int | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    on_range: RangeHook | None = None,
) -> AuditReport:
    """Check the whole log (up to ``until``) and, given a store, every artifact's bytes.

    Never raises for what it finds: every problem is in the report. ``workers``
    processes hash a large log (default: one per core; 1 hashes in this process).
    ``on_range`` sees the checker after each range (the anchors' check reads
    the running digest there).

    Raises:
        StorageError: the database could not be read at all.

    """
    started = time.perf_counter()
    target = events.max_position() if until is None else until
    checker = LogChecker()
    keep = KEEP_CONTENT if artifacts is not None else KEEP_SEALS
    for hashed_range in hashed_ranges(events, 0, target, keep=keep, workers=workers):
        checker.accept_range(hashed_range)
        if on_range is not None:
            on_range(checker)
        checker.seals()
        if progress is not None:
            progress(checker.count, target)
    checker.seals(final=True)
    checker.report_mismatches()
    checked = checker.verify_artifacts(artifacts) if artifacts is not None else 0
    return AuditReport(
        events_checked=checker.count,
        artifacts_checked=checked,
        seals_checked=checker.seals_checked,
        problems=checker.problems,
        unsealed_tail=max(0, checker.last_sealable - checker.last_seal_count),
        last_seal_position=checker.last_seal_position,
        digest=checker.running.hex(),
        seconds=time.perf_counter() - started,
        problems_truncated=checker.truncated,
    )


def _integer(value: Any) -> int | None:
    """``value`` when it is a whole number (as JSON decodes one), else None."""
    return value if type(value) is int else None
