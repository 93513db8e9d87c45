"""``lineagelog events export|import|tail``: the raw log as JSON Lines, and its newest events."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lineagelog.api.cli.common import (
    MAX_POSITION,
    ArtifactStoreUrl,
    DatabaseUrl,
    SchemaBase,
    app,
)
from lineagelog.api.cli.help_format import CommandGroup
from lineagelog.api.cli.output import JsonFlag
from lineagelog.domain.errors import LineageError

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import Notification
    from lineagelog.api.context import LineageContext

__all__ = ["events_app"]


class EventsFormat(StrEnum):
    """The formats of an events file."""

    lineagelog = "lineagelog"
    openlineage = "openlineage"


Format = Annotated[
    EventsFormat,
    typer.Option(
        "--format",
        help="lineagelog: the whole log, hash-chained (lineagelog-events); "
        "openlineage: RunEvents, one JSON object per line.",
    ),
]

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
    format_: Format = EventsFormat.lineagelog,
    namespace: Annotated[
        str,
        typer.Option(help="With --format openlineage: the job namespace of lineagelog's jobs."),
    ] = "lineagelog",
    schema_base: SchemaBase = None,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Export the log as JSON Lines (lineagelog-events version 1, or OpenLineage RunEvents)."""
    from lineagelog.api.cli.session import open_context_for

    if schema_base is not None and format_ is not EventsFormat.openlineage:
        raise LineageError(
            "--schema-base names where OpenLineage facet schemas are served; "
            "use it with --format openlineage"
        )
    context = open_context_for(database_url, artifact_store, catch_up=False)
    if format_ is EventsFormat.openlineage:
        _export_openlineage(context, output, since, namespace, schema_base)
        return
    from lineagelog.adapters.export import export_events

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


def _export_openlineage(
    context: LineageContext, output: str, since: int, namespace: str, schema_base: str | None
) -> None:
    from lineagelog.adapters.openlineage.export import export_openlineage
    from lineagelog.adapters.openlineage.schemas import schema_base as resolve_schema_base

    schema_base = resolve_schema_base(schema_base)  # else LINEAGELOG_OPENLINEAGE_SCHEMA_BASE
    if output == "-":
        export_openlineage(
            context.events,
            sys.stdout,
            since=since,
            namespace=namespace,
            schema_base=schema_base,
            locate=context.artifacts.full_uri,
        )
        return
    target = Path(output)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            result = export_openlineage(
                context.events,
                out,
                since=since,
                namespace=namespace,
                schema_base=schema_base,
                locate=context.artifacts.full_uri,
            )
        partial.replace(target)
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise LineageError(
            f"cannot write {output!r}: {e.strerror}; choose a writable path"
        ) from None
    typer.echo(
        f"exported {result.count} OpenLineage event(s) (log positions {since + 1}.."
        f"{result.until}) to {output} in {result.seconds:.2f}s",
        err=True,
    )


@events_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A file written by `lineagelog events export`.")],
    format_: Format = EventsFormat.lineagelog,
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
    """Import an export into an EMPTY store: all events or none, same hashes and seals.

    With --format openlineage: RunEvents (JSON Lines), into any store; see
    `lineagelog openlineage import`.
    """
    if format_ is EventsFormat.openlineage:
        from lineagelog.api.cli.openlineage import import_openlineage_file

        import_openlineage_file(path, database_url, artifact_store)
        return
    from lineagelog.adapters.export import import_events
    from lineagelog.api.cli.session import open_context_for
    from lineagelog.api.config import resolve_settings
    from lineagelog.api.context import new_database_removed_on_failure

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
            with new_database_removed_on_failure(resolve_settings(database_url, artifact_store)):
                context = open_context_for(
                    database_url, artifact_store, catch_up=False, create=True
                )
                result = import_events(context.events, source)
        except UnicodeDecodeError as e:
            raise LineageError(
                f"{str(path)!r} is not UTF-8 text ({e}); nothing was imported"
            ) from None
    _project_imported(context)
    note = " (the target numbered positions differently)" if result.renumbered else ""
    typer.echo(
        f"imported {result.count} events up to position {result.last_position}{note} "
        f"in {result.seconds:.2f}s; digest sha256 {result.digest}"
    )


def _project_imported(context: LineageContext) -> None:
    """Build the views of a log just imported into an empty store, in bounded memory.

    The views were empty, so they are loaded in bulk, as a rebuild loads them, in
    pages of ``LEAN_REBUILD_PAGE_SIZE`` events and a small SQLite page cache: the
    command's memory stays that of the streaming import, whatever the log's length.
    """
    from lineagelog.adapters.view_engine import sqlite_lean_bulk_writes
    from lineagelog.projections.projector import LEAN_REBUILD_PAGE_SIZE, Projector

    _give_back_freed_memory()
    projector = Projector(
        context.projector.engine,
        context.events,
        bulk_writes=sqlite_lean_bulk_writes,
        rebuild_page_size=LEAN_REBUILD_PAGE_SIZE,
    )
    projector.rebuild()


def _give_back_freed_memory() -> None:
    """Return to the system the memory the import freed, so the views start from little.

    The import's batches and SQLite page cache are freed, but C's allocator keeps
    the pages (``malloc_trim`` on glibc gives them back).
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    name = ctypes.util.find_library("c")
    if sys.platform != "linux" or name is None:
        return
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return
    trim(0)


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

    from lineagelog.adapters.raw_events import topic_type
    from lineagelog.api.cli.output import printable
    from lineagelog.api.json_shapes import event_record

    record = event_record(n)
    if as_json:
        return json.dumps(record, ensure_ascii=False, default=str)
    content = record["payload"]
    kind = topic_type(n.topic) if "error" not in content else f"undecodable {n.topic}"
    when = str(content.get("timestamp", "?"))[:19].replace("T", " ")
    stream = str(n.originator_id)[:8]
    return f"{n.id:>8}  {when}  {printable(kind):<40} {stream} v{n.originator_version}"
