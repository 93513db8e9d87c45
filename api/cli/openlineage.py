"""``lineagelog openlineage import|send``: other tools' lineage in, lineagelog's out.

``events export --format openlineage`` and ``events import --format openlineage``
(in ``events``) call the same functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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

__all__ = ["delivery_lines", "import_openlineage_file", "openlineage_app"]

openlineage_app = CommandGroup(
    help="OpenLineage: import RunEvents other tools wrote, send lineagelog's history to a "
    "consumer such as Marquez, and status: what live emission delivered or missed.",
    no_args_is_help=True,
)
app.add_typer(openlineage_app, name="openlineage")

Namespace = Annotated[
    str,
    typer.Option("--namespace", help="The OpenLineage job namespace of lineagelog's jobs."),
]


@openlineage_app.command("import")
def import_(
    path: Annotated[
        Path, typer.Argument(help="JSON Lines of RunEvents (e.g. the openlineage file transport).")
    ],
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Validate every RunEvent of FILE, then record the new ones (all or nothing)."""
    import_openlineage_file(path, database_url, artifact_store)


def import_openlineage_file(
    path: Path, database_url: str | None, artifact_store: str | None
) -> None:
    """Import a file of RunEvents into the store (shared with ``events import``)."""
    from lineagelog.adapters.openlineage.ingest import ingest_lines
    from lineagelog.api.cli.session import open_context_for

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise LineageError(f"cannot read {str(path)!r}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise LineageError(f"{str(path)!r} is not UTF-8 text ({e}); nothing was imported") from None
    context = open_context_for(database_url, artifact_store, catch_up=False, create=True)
    result = ingest_lines(context.repository, text.splitlines(), channel="file")
    context.catch_up()
    typer.echo(
        f"imported {result.accepted} OpenLineage event(s) from {path}"
        + (f"; {result.duplicates} already recorded" if result.duplicates else "")
    )


@openlineage_app.command("send")
def send(
    url: Annotated[
        str, typer.Option("--url", help="The consumer's base URL (Marquez: http://host:5000).")
    ],
    endpoint: Annotated[
        str, typer.Option("--endpoint", help="The consumer's lineage endpoint.")
    ] = "api/v1/lineage",
    since: Annotated[
        int, typer.Option(min=0, max=MAX_POSITION, help="Only events after this log position.")
    ] = 0,
    namespace: Namespace = "lineagelog",
    schema_base: SchemaBase = None,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """POST the history (after --since) as OpenLineage RunEvents, one per request."""
    from lineagelog.adapters.openlineage.delivery import DeliveryStatusStore
    from lineagelog.adapters.openlineage.schemas import schema_base as resolve_schema_base
    from lineagelog.adapters.openlineage.transport import (
        consumer_name,
        http_transport,
        send_history,
    )
    from lineagelog.api.cli.session import open_context_for

    transport = http_transport(url, endpoint)
    base = resolve_schema_base(schema_base)  # else LINEAGELOG_OPENLINEAGE_SCHEMA_BASE
    context = open_context_for(database_url, artifact_store, catch_up=False)
    result = send_history(
        context.events,
        transport,
        since=since,
        namespace=namespace,
        schema_base=base,
        locate=context.artifacts.full_uri,
    )
    DeliveryStatusStore(context.engine).settled(consumer_name(transport), since)
    typer.echo(
        f"sent {result.sent} OpenLineage event(s) to {url} (log positions {since + 1}.."
        f"{result.until}); next time: --since {result.until}"
    )


@openlineage_app.command("status")
def status(
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """How live emission fared per consumer: delivered, failed, where to resend from."""
    from lineagelog.adapters.openlineage.delivery import DeliveryStatusStore
    from lineagelog.api.cli.output import emit_json, print_table
    from lineagelog.api.cli.session import open_context_for

    context = open_context_for(database_url, artifact_store, catch_up=False)
    records = DeliveryStatusStore(context.engine).all()
    if as_json:
        emit_json(
            [
                {
                    "consumer": r.consumer,
                    "delivered": r.delivered,
                    "failed": r.failed,
                    "first_undelivered": r.first_undelivered,
                    "last_error": r.last_error,
                    "updated_at": r.updated_at.isoformat(),
                }
                for r in records
            ]
        )
        return
    print_table(
        None,
        ["CONSUMER", "DELIVERED", "FAILED", "RESEND", "LAST ERROR"],
        [
            (
                r.consumer,
                r.delivered,
                r.failed,
                "-" if r.first_undelivered is None else f"--since {r.first_undelivered - 1}",
                r.last_error or "",
            )
            for r in records
        ],
        empty="no live OpenLineage emission recorded (set OPENLINEAGE_URL to turn it on)",
    )


def delivery_lines(engine: Any) -> list[str]:
    """One line per consumer that is owed events, for ``projections status``."""
    from lineagelog.adapters.openlineage.delivery import DeliveryStatusStore

    return [
        f"OpenLineage: {r.failed} event(s) not delivered to {r.consumer} (last error: "
        f"{r.last_error}); send them with `lineagelog openlineage send --since "
        f"{r.first_undelivered - 1}`"
        for r in DeliveryStatusStore(engine).all()
        if r.first_undelivered is not None
    ]
