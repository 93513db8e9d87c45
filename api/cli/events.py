"""``lineagelog events export|import|tail``: the raw log as JSON Lines, and its newest events."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lineagelog.api.cli.common import MAX_POSITION, ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.cli.help_format import CommandGroup
from lineagelog.api.cli.output import JsonFlag
from lineagelog.domain.errors import LineageError

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification

__all__ = ["events_app"]

events_app = CommandGroup(
    help="The raw event log: export it as JSON Lines, import it into an empty store, "
    "tail the newest events.",
    no_args_is_help=True,
)
app.add_typer(events_app, name="events")


@events_app.command("export")
def export(
    output: Annotated[
        str,
        typer.Option("-o", "--output", help="File to write (default `-`: standard output)."),
    ] = "-",
    since: Annotated[
        int, typer.Option(min=0, max=MAX_POSITION, help="Only events after this position.")
    ] = 0,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Export the log as JSON Lines (format `lineagelog-events` version 1), to stdout or -o."""
    from lineagelog.adapters.export import export_events
    from lineagelog.api.cli.session import open_context_for

    context = open_context_for(database_url, artifact_store, catch_up=False)
    if output == "-":
        export_events(context.events, sys.stdout, since=since)
        return
    target = Path(output)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            result = export_events(context.events, out, since=since)
        partial.replace(target)
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise LineageError(
            f"cannot write {output!r}: {e.strerror}; choose a writable path"
        ) from None
    typer.echo(
        f"exported {result.count} events (positions {since + 1}..{result.last_position}) "
        f"to {output} "
        f"in {result.seconds:.2f}s; digest sha256 {result.digest}",
        err=True,
    )


@events_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A file written by `lineagelog events export`.")],
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            metavar="ANCHOR",
            help="Refuse the file unless it holds every seal anchored in ANCHOR (a path or "
            "fsspec URL written by `lineagelog audit seal --anchor`).",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Import an export into an EMPTY store: all events or none, same hashes and seals."""
    from lineagelog.adapters.export import import_events
    from lineagelog.api.cli.session import open_context_for

    anchors = None
    if anchor is not None:
        from lineagelog.adapters.anchor import read_anchors

        anchors = read_anchors(anchor)  # a bad anchor file stops us before anything is opened
    try:
        source = path.open("r", encoding="utf-8")
    except OSError as e:
        raise LineageError(f"cannot read {str(path)!r}: {e.strerror}") from None
    with source:
        try:
            if anchors is not None:  # before the store is even opened: a refusal writes nothing
                from lineagelog.adapters.anchor import check_events_file

                check_events_file(source, anchors, str(anchor))
                source.seek(0)
            context = open_context_for(database_url, artifact_store, catch_up=False)
            result = import_events(context.events, source)
        except UnicodeDecodeError as e:
            raise LineageError(
                f"{str(path)!r} is not UTF-8 text ({e}); nothing was imported"
            ) from None
    context.catch_up()
    note = " (the target numbered positions differently)" if result.renumbered else ""
    typer.echo(
        f"imported {result.count} events up to position {result.last_position}{note} "
        f"in {result.seconds:.2f}s; digest sha256 {result.digest}"
    )


@events_app.command("tail")
def tail(
    lines: Annotated[int, typer.Option("-n", "--lines", min=1, help="How many events.")] = 20,
    follow: Annotated[
        bool, typer.Option("-f", "--follow", help="Keep printing new events until Ctrl-C.")
    ] = False,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Show the newest events of the log, one per line (or JSON Lines with --json)."""
    from lineagelog.api.cli.session import open_context_for

    events = open_context_for(database_url, artifact_store, catch_up=False).events
    after = max(0, events.max_position() - lines)
    while True:
        page = events.read_notifications(after, 1000)
        for n in page:
            typer.echo(_line(n, as_json))
        if page:
            after = page[-1].id
            continue
        if not follow:
            return
        time.sleep(0.5)


def _line(n: Notification, as_json: bool) -> str:
    import json

    from lineagelog.adapters.raw_events import hashed, topic_type
    from lineagelog.adapters.stored_events import UndecodableEvent
    from lineagelog.api.cli.output import printable

    kind = topic_type(n.topic)
    try:
        content: dict[str, Any] = hashed(
            n.id, n.originator_id, n.originator_version, n.topic, n.state
        ).content
    except UndecodableEvent as e:  # a damaged payload, or a type lineagelog does not record
        content = {"timestamp": "?", "error": str(e)}
        kind = f"undecodable {n.topic}"  # the whole topic: its module may be the forgery
    if as_json:
        record = {
            "position": n.id,
            "stream_id": str(n.originator_id),
            "stream_version": n.originator_version,
            "type": n.topic,
            "payload": content,
        }
        return json.dumps(record, ensure_ascii=False, default=str)
    when = str(content.get("timestamp", "?"))[:19].replace("T", " ")
    stream = str(n.originator_id)[:8]
    return f"{n.id:>8}  {when}  {printable(kind):<40} {stream} v{n.originator_version}"
