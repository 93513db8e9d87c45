"""Seal anchors: a seal's digest kept outside the log, so a rewritten log cannot hide.

A seal inside the log proves the events before it, but whoever can rewrite the
database can delete the last seal with the events it covered, or recompute
every hash and seal of a forged history. An anchor is a copy of a seal (its
position, event count and running digest) appended to a file elsewhere: a
local file, or any fsspec URL (``s3://bucket/anchors.jsonl``). Checking a log
(or an events file about to be imported) against every anchor proves it still
holds the anchored history: the running digest over its first ``event_count``
events must be the anchored digest (``domain.seal.advance_digest``, the same
fold the seals use).

The anchor file is JSON Lines, one anchor per line, never rewritten::

    {"format": "lineagelog-anchor", "version": 1, "up_to_position": 130,
     "event_count": 120, "digest": "<64 hex>", "sealed_at": "2024-05-01T12:00:00+00:00",
     "seal_id": "<seal stream id>:<seal version>"}
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from lineagelog.adapters.audit import AuditProblem, LogChecker
from lineagelog.adapters.export import _EventLines, _parse_chunk, _parse_header
from lineagelog.adapters.hash_pool import parallel_map
from lineagelog.domain.errors import AnchorFileError, IntegrityError
from lineagelog.domain.seal import SEAL_GENESIS, SEAL_STREAM_ID

if TYPE_CHECKING:
    from lineagelog.adapters.sealing import SealResult

__all__ = [
    "ANCHOR_FORMAT",
    "ANCHOR_VERSION",
    "Anchor",
    "AnchorCheck",
    "AnchorFileError",
    "append_anchor",
    "check_events_file",
    "read_anchors",
]

ANCHOR_FORMAT = "lineagelog-anchor"
ANCHOR_VERSION = 1
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Anchor:
    """One anchored seal: the log's first ``event_count`` events, up to a position, digest so."""

    up_to_position: int
    event_count: int
    digest: str
    sealed_at: str
    seal_id: str | None
    line: int
    """Its line number in the anchor file (from 1), to name it in a problem."""


def anchor_record(seal: SealResult, sealed_at: datetime | None = None) -> dict[str, Any]:
    """The anchor file's line (as a JSON object) for ``seal``."""
    moment = (sealed_at or datetime.now(UTC)).isoformat()
    seal_id = f"{SEAL_STREAM_ID}:{seal.seal_version}" if seal.seal_version is not None else None
    return {
        "format": ANCHOR_FORMAT,
        "version": ANCHOR_VERSION,
        "up_to_position": seal.up_to_position,
        "event_count": seal.event_count,
        "digest": seal.digest,
        "sealed_at": moment,
        "seal_id": seal_id,
    }


def append_anchor(url: str, seal: SealResult) -> dict[str, Any]:
    """Append ``seal`` as one line to the anchor file ``url`` (created if missing).

    A local file is opened for appending (one write of one line). A store that
    cannot append (an object store) is read, and written back whole with the
    line added: earlier lines are never dropped, but two processes anchoring
    the same object at the same moment can lose one of the two lines.

    Returns the record written.

    Raises:
        AnchorFileError: the file cannot be read or written.

    """
    record = anchor_record(seal)
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
    try:
        fs, path = fsspec.core.url_to_fs(url)
        if isinstance(fs, LocalFileSystem):
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if os.fstat(fd).st_size and not _ends_with_newline(path):
                    line = b"\n" + line  # a line cut short before us stays its own (bad) line
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            return record
        earlier = fs.cat_file(path) if fs.exists(path) else b""
        if earlier and not earlier.endswith(b"\n"):
            earlier += b"\n"
        with fs.open(path, "wb") as out:
            out.write(earlier + line)
    except (OSError, ValueError, ImportError) as e:
        raise AnchorFileError(
            f"cannot append to the anchor file {url!r}: {e}; choose a writable file or URL "
            "(the seal itself was written to the log)"
        ) from e
    return record


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def read_anchors(url: str) -> list[Anchor]:
    """Every anchor of the file ``url``, in file order.

    Raises:
        AnchorFileError: the file is missing, unreadable, empty, or a line is
            not an anchor (the message names the file and the line).

    """
    try:
        fs, path = fsspec.core.url_to_fs(url)
        data = fs.cat_file(path)
    except FileNotFoundError:
        raise AnchorFileError(
            f"the anchor file {url!r} does not exist; write one with "
            f"`lineagelog audit seal --anchor {url}`"
        ) from None
    except (OSError, ValueError, ImportError) as e:
        raise AnchorFileError(f"cannot read the anchor file {url!r}: {e}") from e
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AnchorFileError(f"the anchor file {url!r} is not UTF-8 text ({e})") from None
    anchors = [
        _parse(url, number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    if not anchors:
        raise AnchorFileError(
            f"the anchor file {url!r} holds no anchors; write one with "
            f"`lineagelog audit seal --anchor {url}`"
        )
    return anchors


def _parse(url: str, number: int, line: str) -> Anchor:
    def bad(what: str) -> AnchorFileError:
        return AnchorFileError(
            f"line {number} of the anchor file {url!r} {what}; an anchor file holds only lines "
            "written by `lineagelog audit seal --anchor`: restore the file from a copy"
        )

    try:
        record = json.loads(line)
    except ValueError:
        raise bad("is not JSON (the file is damaged or cut short)") from None
    if not isinstance(record, dict) or record.get("format") != ANCHOR_FORMAT:
        raise bad(f"is not a {ANCHOR_FORMAT!r} record")
    if record.get("version") != ANCHOR_VERSION:
        raise bad(f"is anchor format version {record.get('version')!r}, not {ANCHOR_VERSION}")
    for name in ("up_to_position", "event_count"):
        value = record.get(name)
        if type(value) is not int or value < 0:
            raise bad(f"has {name} {value!r}, not a whole number >= 0")
    digest = record.get("digest")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise bad(f"has digest {digest!r}, not 64 lowercase hex digits")
    seal_id = record.get("seal_id")
    return Anchor(
        up_to_position=record["up_to_position"],
        event_count=record["event_count"],
        digest=digest,
        sealed_at=str(record.get("sealed_at")),
        seal_id=seal_id if isinstance(seal_id, str) else None,
        line=number,
    )


class AnchorCheck:
    """Checks anchors against a ``LogChecker`` as it walks a history, in order.

    Call ``reached`` after each ``LogChecker.accept_range`` (before its
    ``seals``, which forgets the digests of sealed events) and ``finish`` at
    the end.
    """

    def __init__(self, anchors: list[Anchor], source: str, history: str = "the log") -> None:
        """Check ``anchors`` (read from ``source``) against ``history`` (named in problems)."""
        self.pending = sorted(anchors, key=lambda a: a.event_count)
        self.source = source
        self.history = history
        self.problems: list[AuditProblem] = []
        self.checked = 0

    def reached(self, checker: LogChecker) -> None:
        """Check every anchor whose events the checker has now read."""
        while self.pending and self.pending[0].event_count <= checker.count:
            anchor = self.pending.pop(0)
            self.checked += 1
            if anchor.event_count == 0:
                actual, at = bytes.fromhex(SEAL_GENESIS), 0
            else:
                actual, at = checker.digests[anchor.event_count - checker.base - 1]
            if actual.hex() != anchor.digest:
                self._problem(
                    anchor,
                    f"does not match {self.history}: its first {anchor.event_count} events "
                    f"digest to {actual.hex()[:16]}..., the anchor holds {anchor.digest[:16]}...; "
                    f"the history up to position {anchor.up_to_position} was rewritten "
                    "(events changed, deleted, inserted or re-hashed)",
                )
            elif at != anchor.up_to_position:
                self._problem(
                    anchor,
                    f"matches the content of {self.history} but its {anchor.event_count}th event "
                    f"is at position {at}, not {anchor.up_to_position}: positions were renumbered",
                )

    def finish(self, count: int) -> None:
        """Name every anchor beyond the history's ``count`` events: its tail was cut off."""
        for anchor in self.pending:
            self.checked += 1
            if anchor.event_count == 0:  # an empty history: nothing reached ``reached``
                if anchor.digest != SEAL_GENESIS:
                    self._problem(anchor, f"holds digest {anchor.digest[:16]}... for no events")
                continue
            self._problem(
                anchor,
                f"covers {anchor.event_count} events but {self.history} holds only "
                f"{count}: the events after the first {count} (up to position "
                f"{anchor.up_to_position}) were deleted, the tail of the history was cut off",
            )
        self.pending = []

    def _problem(self, anchor: Anchor, what: str) -> None:
        if len(self.problems) >= _MAX_PROBLEMS:
            return
        self.problems.append(
            AuditProblem(
                "anchor",
                f"the anchor on line {anchor.line} of {self.source!r} (sealed at "
                f"{anchor.sealed_at}, {anchor.event_count} events up to position "
                f"{anchor.up_to_position}) {what}",
                position=anchor.up_to_position,
            )
        )


def check_events_file(
    source: IO[str], anchors: list[Anchor], anchor_source: str, *, workers: int | None = None
) -> int:
    """Refuse an events file that does not hold the anchored history; return anchors checked.

    The file is parsed and hashed exactly as ``import_events`` will import it,
    and the running digest over its events compared with every anchor. Nothing
    is written.

    Raises:
        IntegrityError: an anchor does not match the file (naming the anchor).
        ExportFormatError: the file is not a readable ``lineagelog-events`` export.

    """
    _parse_header(source.readline())
    checker = LogChecker()
    check = AnchorCheck(anchors, anchor_source, "the events file")
    for parsed in parallel_map(_parse_chunk, _EventLines(source).chunks(), workers=workers):
        checker.accept_range(parsed.hashed)
        check.reached(checker)
        checker.seals()
    check.finish(checker.count)
    if check.problems:
        listed = "; ".join(p.message for p in check.problems[:5])
        raise IntegrityError(
            f"the events file does not hold the anchored history ({len(check.problems)} "
            f"problem(s)): {listed}; nothing was imported"
        )
    return check.checked
