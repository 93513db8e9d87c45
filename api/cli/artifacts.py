"""``lineagelog artifacts list|show``: the artifact catalog.

Other command modules add their commands to ``artifacts_app`` (tag, delete, gc, ...).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lineagelog.api.cli.common import MAX_COUNT, ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.cli.help_format import CommandGroup
from lineagelog.api.cli.output import JsonFlag
from lineagelog.api.json_shapes import version_detail, version_summary

__all__ = ["artifacts_app", "version_summary"]

artifacts_app = CommandGroup(
    help="Named, versioned artifacts: list them, show one version in detail, tag and untag "
    "versions, register existing data, delete a version.",
    no_args_is_help=True,
)
app.add_typer(artifacts_app, name="artifacts")


@artifacts_app.command("list")
def list_artifacts(
    name: Annotated[
        str | None, typer.Argument(help="List this artifact's versions; all names when left out.")
    ] = None,
    tag: Annotated[str | None, typer.Option(help="Only versions carrying this tag.")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, max=MAX_COUNT, help="Show at most N versions.")
    ] = None,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """List artifact names with their version counts, or the versions of NAME."""
    from lineagelog.api.cli.output import emit_json, format_size, format_time, print_table
    from lineagelog.api.cli.session import open_client

    client = open_client(database_url, artifact_store)
    if name is None and tag is None:
        names = client.context.queries.artifact_names()
        if as_json:
            emit_json([{"name": n, "versions": c, "latest": latest} for n, c, latest in names])
            return
        print_table(
            None,
            ["NAME", "VERSIONS", "LATEST"],
            [(n, c, latest) for n, c, latest in names],
            empty="no artifacts yet; run a pipeline (try `lineagelog demo`)",
        )
        return
    if name is not None:
        client.get_artifact_version(name)  # an unknown name is an error, not an empty list
    versions = client.list_artifact_versions(name=name, tag=tag, limit=limit)
    if as_json:
        emit_json([version_summary(v) for v in versions])
        return
    print_table(
        None,
        ["NAME", "VERSION", "ID", "TYPE", "SIZE", "CREATED", "TAGS"],
        [
            (
                f"{v.name}" + (" (deleted)" if v.deleted else ""),
                v.version,
                str(v.id)[:8],
                v.data_type.rsplit(".", 1)[-1],
                format_size(v.size),
                format_time(v.created_at),
                ", ".join(v.tags) or "-",
            )
            for v in versions
        ],
        empty=f"no versions with tag {tag!r}" if tag else "no versions",
    )


@artifacts_app.command("show")
def show_artifact(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="ARTIFACT",
            help="`model` (the latest), `model:3`, a version id or a unique id prefix.",
        ),
    ],
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Show one artifact version: uri, producer, consumers, hash, size, metadata, visualizations."""
    from lineagelog.api.cli.output import emit_json
    from lineagelog.api.cli.session import open_client

    client = open_client(database_url, artifact_store)
    av = client.get_artifact_version(ref)
    detail = version_detail(client, av)
    if as_json:
        emit_json(detail)
        return
    _print_detail(detail)


def _print_detail(d: dict[str, Any]) -> None:
    from lineagelog.api.cli.output import format_size, format_time, printable

    def say(text: str) -> None:
        typer.echo(printable(text))

    say(f"{d['name']}:{d['version']}" + ("  (deleted)" if d["deleted"] else ""))
    if d["deleted"]:
        say(f"  {'deleted':<15}{format_time(d['deleted_at'])}")
        say(f"  {'reason':<15}{d['deleted_reason'] or '-'}")
    producer = d["producer"]
    rows = [
        ("id", d["id"]),
        ("uri", d["uri"]),
        ("data type", d["data_type"]),
        ("artifact type", d["artifact_type"]),
        ("materializer", d["materializer"]),
        ("content hash", f"sha256:{d['content_hash']}"),
        ("size", f"{format_size(d['size'])} ({d['size']} bytes)"),
        ("created", format_time(d["created_at"])),
        ("tags", ", ".join(d["tags"]) or "-"),
        ("producer", _describe_step(producer) if producer else "- (registered outside a step)"),
    ]
    for label, value in rows:
        say(f"  {label:<15}{value}")
    _say_list("consumers", [_describe_step(c) for c in d["consumers"]])
    _say_list("metadata", [f"{k}: {v}" for k, v in d["metadata"].items()])
    visuals = [f"{v.get('type', '?')}: {v.get('uri', '')}" for v in d["visualizations"]]
    _say_list("visualizations", visuals)


def _describe_step(ref: dict[str, Any]) -> str:
    return f"step {ref['step']} ({ref['step_run_id']}) of run {ref['run_id']}"


def _say_list(label: str, items: list[str]) -> None:
    from lineagelog.api.cli.output import printable

    typer.echo(f"  {label:<15}{'-' if not items else ''}".rstrip())
    for item in items:
        typer.echo(f"    {printable(item)}")
