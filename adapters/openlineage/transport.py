"""Send RunEvents to an OpenLineage consumer through the openlineage-python client's transports.

``http_transport`` is the client's HTTP transport (one ``requests`` session, so
connections are kept alive) aimed at a consumer such as Marquez;
``line_writer`` writes RunEvents already serialized to the file of a file
transport appending to a local file, as the export writes them;
``send_history`` sends the log's RunEvents after a position through any
transport, stopping at the first refusal and saying how far it got, so that
what was not delivered can be sent again with ``--since``.

Needs the ``openlineage`` extra (``openlineage-python``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.openlineage.export import run_events
from lineagelog.adapters.openlineage.mapping import DEFAULT_NAMESPACE
from lineagelog.domain.errors import ConfigurationError, OpenLineageDeliveryError

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = [
    "AppendedFile",
    "SendResult",
    "consumer_name",
    "http_transport",
    "line_writer",
    "send_history",
]


@dataclass(frozen=True)
class SendResult:
    """What was delivered: ``sent`` RunEvents, all of the log up to ``until``."""

    sent: int
    until: int


def consumer_name(transport: Any) -> str:
    """How delivery figures name a transport's consumer: its URL, its file, else its kind."""
    config = getattr(transport, "config", None)
    url = getattr(config, "url", None)
    if isinstance(url, str):
        endpoint = getattr(config, "endpoint", None) or ""
        return f"{url.rstrip('/')}/{endpoint.lstrip('/')}" if endpoint else url
    path = getattr(config, "log_file_path", None)
    if isinstance(path, str):
        return f"file:{path}"
    return str(getattr(transport, "kind", None) or type(transport).__name__)


class AppendedFile:
    """RunEvent lines appended to a local file, the file transport's ``append: true`` output.

    The client's file transport opens the file for every event and serializes the
    event again (``Serde``: a walk of every value, then ``json.dumps``); the lines
    lineagelog maps are already the JSON the export writes, so this writes them as
    they are, a batch per ``open``. A line holds the same RunEvent either way,
    except that it keeps the nulls (``"originalStepRunId":null``) the client drops,
    as ``events export --format openlineage`` does.
    """

    def __init__(self, path: str) -> None:
        """Append to the file at ``path`` (created on the first write if missing)."""
        self.path = path

    def __call__(self, lines: Sequence[str]) -> None:
        """Append ``lines`` (RunEvents, one JSON document each, without newlines).

        Raises:
            OpenLineageDeliveryError: the file could not be written.

        """
        try:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        except OSError as e:
            raise OpenLineageDeliveryError(
                f"could not append {len(lines)} RunEvent(s) to the OpenLineage file "
                f"{self.path!r} ({e}); make its folder writable or change log_file_path"
            ) from e


def line_writer(transport: Any) -> AppendedFile | None:
    """What writes RunEvent lines for ``transport`` without re-serializing them, else None.

    Only the client's own file transport (not a subclass) appending to a local
    file (``append: true``, no ``debug_mode``, a path without a URL scheme)
    has one; every other transport takes each RunEvent through its ``emit``.
    """
    try:
        from openlineage.client.transport.file import FileTransport
    except ImportError:
        return None
    if type(transport) is not FileTransport:
        return None
    config = transport.config
    path = getattr(config, "log_file_path", None)
    if (
        getattr(config, "append", False) is not True
        or getattr(config, "debug_mode", False) is not False
        or getattr(config, "filesystem", None)
        or not isinstance(path, str)
        or "://" in path
    ):
        return None
    return AppendedFile(path)


def http_transport(url: str, endpoint: str = "api/v1/lineage", timeout: float = 10.0) -> Any:
    """The openlineage-python HTTP transport posting to ``url``/``endpoint``.

    Raises:
        ConfigurationError: openlineage-python is not installed, or ``url`` is no http(s) URL.

    """
    try:
        from openlineage.client.transport.http import HttpConfig, HttpTransport
    except ImportError as e:
        raise ConfigurationError(
            "sending OpenLineage events needs openlineage-python: "
            "pip install 'lineagelog[openlineage]'"
        ) from e
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"OpenLineage URL {url!r} is not an http:// or https:// URL; give the consumer's "
            "base URL, e.g. http://localhost:5000 for Marquez"
        )
    config = HttpConfig.from_dict(
        {"type": "http", "url": url, "endpoint": endpoint, "timeout": timeout}
    )
    return HttpTransport(config)


def send_history(
    events: EventStore,
    transport: Any,
    *,
    since: int = 0,
    namespace: str = DEFAULT_NAMESPACE,
    schema_base: str | None = None,
    locate: Callable[[str], str] = str,
) -> SendResult:
    """Send the RunEvents of the events after ``since``, in log order, through ``transport``.

    Raises:
        OpenLineageDeliveryError: the consumer refused an event or could not be
            reached; the message names the position to resend from.
        StorageError: the database could not be read.

    """
    until = events.max_position()
    sent = 0
    for position, run_event in run_events(
        events,
        since=since,
        until=until,
        namespace=namespace,
        schema_base=schema_base,
        locate=locate,
    ):
        try:
            transport.emit(run_event)
        except Exception as e:  # any transport's failure: requests, kafka, a file...
            raise OpenLineageDeliveryError(
                f"the OpenLineage consumer did not take the event of log position {position} "
                f"({type(e).__name__}: {e}); {sent} event(s) were delivered. Fix the consumer "
                f"and send the rest with `lineagelog openlineage send --since {position - 1}`"
            ) from e
        sent += 1
    return SendResult(sent, until)
