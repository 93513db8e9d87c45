"""What every reader of stored event rows shares, whatever it builds from them.

The audit, the seal writer and the exporter hash stored rows (``raw_events``,
``hash_pool``, ``export``); the projector decodes them into light records
(``projection_events``). They share the error for a row lineagelog did not
write, the check that a topic names one of lineagelog's events, and the two
spellings of a stream id: ``UUID.hex`` (32 lowercase hex digits, what the
recorder and the ``uuid_hex`` transcoding store) and the canonical dashed
string (what events and views hold).
"""

from __future__ import annotations

import re
import zlib
from typing import Any
from uuid import UUID

from lineagelog.domain.topics import EVENT_CLASSES

__all__ = [
    "TOPIC_CODES",
    "UndecodableEvent",
    "check_topic",
    "dashed_uuid",
    "encode_row",
    "parse_stream_id",
    "stored_row",
    "stream_hex",
]


class UndecodableEvent(ValueError):
    """A stored event lineagelog cannot read as one of its own.

    Its payload is not the JSON object the transcoder writes, it uses a
    transcoding the event store does not register, or its topic names no
    lineagelog event.
    """


_KNOWN_TOPICS = frozenset(EVENT_CLASSES)


def check_topic(topic: str) -> None:
    """Refuse a topic that names no lineagelog event class (nothing is imported for it).

    Raises:
        UndecodableEvent: the topic is not one lineagelog records.

    """
    if topic not in _KNOWN_TOPICS:
        raise UndecodableEvent(
            f"its type {topic!r} is not an event lineagelog records "
            "(a forged or foreign event; lineagelog never imports the module a topic names)"
        )


def dashed_uuid(text: Any) -> str:
    """``str(UUID(text))`` without building a UUID when ``text`` is 32 hex digits.

    Readers call this once or twice per stored event, so the recorder's own
    spelling (``UUID.hex``) is sliced rather than parsed.

    Examples:
        >>> dashed_uuid("000000000000000000000000000000AB")
        '00000000-0000-0000-0000-0000000000ab'

    """
    if type(text) is str and len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}".lower()
    return str(text if isinstance(text, UUID) else UUID(str(text)))


_DASHED_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_stream_id(text: str) -> str:
    """A stream id read from outside the store (an events file) as 32 lowercase hex digits.

    The usual dashed lowercase form is converted without building a UUID.

    Raises:
        ValueError: ``text`` is not a UUID.

    Examples:
        >>> parse_stream_id("00000000-0000-0000-0000-0000000000ab")
        '000000000000000000000000000000ab'

    """
    if _DASHED_UUID.fullmatch(text):
        return text.replace("-", "")
    return UUID(text).hex


def stream_hex(originator_id: Any) -> str:
    """A stream id as the recorder returned it (hex text or a UUID) as 32 lowercase hex digits.

    Examples:
        >>> stream_hex(UUID(int=171))
        '000000000000000000000000000000ab'

    """
    if isinstance(originator_id, UUID):
        return originator_id.hex
    text = str(originator_id)
    if len(text) == 32 and text == text.lower():
        return text
    return parse_stream_id(text)


# -- the compact encoding of a stored row --------------------------------------------
#
# A row written since schema 4 holds a short topic code (``TOPIC_CODES``) instead of
# the whole topic, and its payload deflated against a fixed dictionary behind a
# one-byte marker (``_DEFLATED_1``). A row written before (or imported from an
# events file) holds the whole topic and the JSON itself; both read the same.
# ``stored_row`` is the one place a stored row's topic and payload are decoded,
# whoever reads it (the mapper, the projector, the audit, the seal writer, the
# exporter). Hashes are over the event, never over these bytes: the encoding
# changes nothing in the chain or the seals.
#
# Codes and dictionary are part of the stored format: never change or reuse one;
# a new event class gets the next free code, a new dictionary a new marker byte.

TOPIC_CODES: dict[str, str] = {
    "lineagelog.domain.artifact_name:ArtifactName.NameRegistered": "1",
    "lineagelog.domain.artifact_name:ArtifactName.VersionRegistered": "2",
    "lineagelog.domain.artifact_name:ArtifactName.VersionTagged": "3",
    "lineagelog.domain.artifact_name:ArtifactName.VersionUntagged": "4",
    "lineagelog.domain.artifact_name:ArtifactName.ExternalVersionRegistered": "5",
    "lineagelog.domain.artifact_name:ArtifactName.VersionDeleted": "6",
    "lineagelog.domain.artifact_name:ArtifactName.VersionReused": "7",
    "lineagelog.domain.artifact_name:ArtifactName.VersionMetadataLogged": "8",
    "lineagelog.domain.openlineage:OpenLineageEvent.Received": "9",
    "lineagelog.domain.run:PipelineRun.RunStarted": "10",
    "lineagelog.domain.run:PipelineRun.RunCompleted": "11",
    "lineagelog.domain.run:PipelineRun.RunFailed": "12",
    "lineagelog.domain.run:PipelineRun.RunInterrupted": "13",
    "lineagelog.domain.run:PipelineRun.RunTagged": "14",
    "lineagelog.domain.run:PipelineRun.RunUntagged": "15",
    "lineagelog.domain.run:PipelineRun.RunMetadataLogged": "16",
    "lineagelog.domain.seal:LogSeal.SealOpened": "17",
    "lineagelog.domain.seal:LogSeal.Sealed": "18",
    "lineagelog.domain.step_code:StepCode.CodeRecorded": "19",
    "lineagelog.domain.step_run:StepRun.StepStarted": "20",
    "lineagelog.domain.step_run:StepRun.CacheDecided": "21",
    "lineagelog.domain.step_run:StepRun.ArtifactWritten": "22",
    "lineagelog.domain.step_run:StepRun.AttemptStarted": "23",
    "lineagelog.domain.step_run:StepRun.StepSucceeded": "24",
    "lineagelog.domain.step_run:StepRun.StepFailed": "25",
    "lineagelog.domain.step_run:StepRun.StepInterrupted": "26",
    "lineagelog.domain.step_run:StepRun.StepMetadataLogged": "27",
    "lineagelog.domain.tag_name:TagName.TagCreated": "28",
    "lineagelog.domain.tag_name:TagName.RunHolderChanged": "29",
}
"""Topic -> the code a row stores instead (digits: no real topic is one, they hold ``:``)."""

_TOPIC_OF_CODE: dict[str, str] = {code: topic for topic, code in TOPIC_CODES.items()}

_DEFLATED_1 = b"\x01"
"""First byte of a payload deflated against ``_DICTIONARY_1`` (a JSON payload starts with ``{``)."""

_DICTIONARY_1 = (
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"20},"previous_hash":"","reason":"",'
    b'"error_type":"","error_message":"","traceback":"","tag":"","exclusive":false,'
    b'"metadata":{},"keys":[],"worker":"","executor":"","attempt":1,"source":"",'
    b'"truncated":false,"deleted_reason":"","event":{},"first":1,"last":1,"count":1,'
    b'"seal_hash":"","previous_seal":"","holder":null}'
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"20},"originator_topic":'
    b'"lineagelog.domain.artifact_name:ArtifactName","previous_hash":"","name":""}'
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"20},"originator_topic":'
    b'"lineagelog.domain.run:PipelineRun","previous_hash":"","pipeline":"","run_name":"",'
    b'"parameters":{},"dag":{},"environment":{}}'
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"20},"previous_hash":""}'
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"20},"originator_topic":'
    b'"lineagelog.domain.step_run:StepRun","previous_hash":"","run_id":{"_type_":"uuid_hex",'
    b'"_data_":""},"pipeline":"","invocation_id":"","step_name":"","source_ref":"pipelines.",'
    b'"code_hash":"","parameters":{},"inputs":{}}'
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"20},"previous_hash":"","cache_key":"",'
    b'"outcome":"miss","reason":"","ingredients":{"code_hash":"","inputs":{}},'
    b'"original_step_run_id":null,"reused_outputs":{}}'
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"20},"previous_hash":"","duration_s":0.'
    b',"cached":false}'
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"20},"previous_hash":"","version":1,'
    b'"artifact_version_id":{"_type_":"uuid_hex","_data_":""},"producer_step_run_id":'
    b'{"_type_":"uuid_hex","_data_":""},"content_hash":"","version_name":"1"}'
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"20},"previous_hash":"","output_name":'
    b'"output","artifact_version_id":{"_type_":"uuid_hex","_data_":""},"name":"","version":1,'
    b'"uri":"","materializer":"lineagelog.adapters.materializers.builtin.BuiltInMaterializer",'
    b'"data_type":"builtins.","artifact_type":"data","content_hash":"","size":,"metadata":{},'
    b'"visualizations":[],"version_name":"1","run_metadata":{},"save_type":"step_output"}'
)
"""The preset dictionary of ``_DEFLATED_1``: the field names and fixed text of events."""

_WINDOW_BITS = -12  # raw deflate (no header or checksum), a 4 KiB window


def _deflate(state: bytes) -> bytes:
    compressor = zlib.compressobj(
        6, zlib.DEFLATED, _WINDOW_BITS, 8, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY_1
    )
    return _DEFLATED_1 + compressor.compress(state) + compressor.flush()


def _inflate(state: bytes) -> bytes:
    decompressor = zlib.decompressobj(_WINDOW_BITS, _DICTIONARY_1)
    data = decompressor.decompress(memoryview(state)[1:]) + decompressor.flush()
    if not decompressor.eof:
        raise zlib.error("the deflated payload is truncated")
    return data


def encode_row(topic: str, state: bytes) -> tuple[str, bytes]:
    """A row's topic and JSON payload as they are stored: the topic's code, the payload deflated.

    A topic without a code (none of lineagelog's events) is stored whole.
    """
    return TOPIC_CODES.get(topic, topic), _deflate(state)


def stored_row(topic: str, state: Any) -> tuple[str, Any]:
    """The whole topic and the JSON payload of a stored row, whichever encoding it has.

    A payload that does not inflate (a damaged or forged row) is returned as it is
    stored: decoding it as JSON then fails and names the row, as for any bad payload.
    """
    topic = _TOPIC_OF_CODE.get(topic, topic)
    if type(state) is memoryview:
        state = bytes(state)
    if type(state) is bytes and state[:1] == _DEFLATED_1:
        try:
            return topic, _inflate(state)
        except zlib.error:
            return topic, state
    return topic, state
