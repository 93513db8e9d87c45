"""Forgers who know the format: events whose values attack a reader, and rewritten exports.

See ``forge_export``: rewrite an export and recompute every hash and seal.

It uses the project's own hashing (``hash_content``, ``advance_digest``), so the
forged file verifies on import and the imported log passes the in-log audit:
only an anchor kept outside the log can tell the histories apart.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from lineagelog.adapters.raw_events import decode_state, hash_content
from lineagelog.adapters.stored_events import stream_hex
from lineagelog.domain.base import GENESIS_HASH
from lineagelog.domain.seal import SEAL_GENESIS, advance_digest
from lineagelog.domain.step_run import StepRun
from lineagelog.domain.values import CacheOutcome


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def forge_export(source: Path, target: Path, parameter: str, value: Any) -> None:
    """Copy the export ``source`` to ``target`` with the first run's ``parameter`` set to ``value``.

    Every event's previous hash and hash, every seal's digests and the footer
    are recomputed so the forged history is consistent in itself.
    """
    lines = source.read_text(encoding="utf-8").splitlines()
    header, events = lines[0], [json.loads(line) for line in lines[1:] if '"payload"' in line]
    heads: dict[str, str] = {}
    running = bytes.fromhex(SEAL_GENESIS)
    digests: list[bytes] = []
    last_seal = SEAL_GENESIS
    changed = False
    out = [header]
    for event in events:
        payload, topic = event["payload"], event["type"]
        stream = stream_hex(event["stream_id"])
        if topic.endswith("PipelineRun.RunStarted") and not changed:
            payload["parameters"][parameter] = value
            changed = True
        if topic.endswith("LogSeal.Sealed"):
            count = payload["event_count"]
            payload["digest"] = digests[count - 1].hex() if count else SEAL_GENESIS
            payload["previous_digest"] = last_seal
            last_seal = payload["digest"]
        payload["previous_hash"] = heads.get(stream, GENESIS_HASH)
        state = _compact(payload)
        event_hash = hash_content(
            stream, event["stream_version"], topic, decode_state(state.encode())
        )
        heads[stream] = event_hash
        running = advance_digest(running, stream, event["stream_version"], event_hash)
        digests.append(running)
        event["previous_hash"], event["hash"] = payload["previous_hash"], event_hash
        del event["payload"]
        out.append(_compact(event)[:-1] + ',"payload":' + state + "}")
    assert changed, "the export holds no run to forge"
    footer = {
        "end": "lineagelog-events",
        "count": len(events),
        "last_position": events[-1]["position"],
        "digest": running.hex(),
    }
    out.append(_compact(footer))
    target.write_text("\n".join(out) + "\n", encoding="utf-8")


def save_forged_output(
    events: Any,
    *,
    name: str,
    uri: str,
    materializer: str,
    data_type: str,
    content_hash: str = "0" * 64,
    size: int = 9,
) -> None:
    """Append a step run whose one output, ``name`` version 1, claims whatever it is given.

    This is what a hostile writer or an imported file can hold: the events are
    well formed, the values in them are chosen to attack whoever loads the output.
    """
    forged = StepRun.start(
        run_id=uuid.uuid4(),
        pipeline="forged",
        invocation_id="forge",
        step_name="forge",
        source_ref="x:forge",
        code_hash="0" * 64,
        parameters={},
        inputs={},
    )
    forged.decide_cache(cache_key="0" * 64, outcome=CacheOutcome.MISS, reason="x", ingredients={})
    forged.record_artifact(
        output_name="output",
        artifact_version_id=uuid.uuid4(),
        name=name,
        version=1,
        uri=uri,
        materializer=materializer,
        data_type=data_type,
        artifact_type="data",
        content_hash=content_hash,
        size=size,
        metadata={},
        visualizations=[],
    )
    events.save(forged)
