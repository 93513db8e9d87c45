"""Artifact lifecycle commands: ``artifacts tag|untag|register|delete``, ``gc`` and ``prune``.

Every change is an event (see ``lineagelog.api.lifecycle``); ``gc`` and ``prune``
only print their plan unless given ``--apply``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lineagelog.api.cli.artifacts import artifacts_app
from lineagelog.api.cli.common import ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.cli.output import JsonFlag
from lineagelog.domain.errors import LineageError

__all__: list[str] = []

_Ref = Annotated[
    str,
    typer.Argument(
        metavar="ARTIFACT",
        help="`model:3`, `model` (the latest), a version id or a unique id prefix.",
    ),
]


@artifacts_app.command("tag")
def tag_artifact(
    ref: _Ref,
    tags: Annotated[list[str], typer.Argument(metavar="TAG...", help="Tags to add.")],
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Add tags to an artifact version (recorded as events; tagged versions survive prune)."""
    _change_tags(ref, tags, as_json, database_url, artifact_store, add=True)


@artifacts_app.command("untag")
def untag_artifact(
    ref: _Ref,
    tags: Annotated[list[str], typer.Argument(metavar="TAG...", help="Tags to remove.")],
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Remove tags from an artifact version (recorded as events)."""
    _change_tags(ref, tags, as_json, database_url, artifact_store, add=False)


def _change_tags(
    ref: str,
    tags: list[str],
    as_json: bool,
    database_url: str | None,
    artifact_store: str | None,
    *,
    add: bool,
) -> None:
    from lineagelog.api.cli.session import open_client

    client = open_client(database_url, artifact_store)
    found = client.get_artifact_version(ref)
    name, number = found.name, found.version
    change = client.tag_artifact if add else client.untag_artifact
    av = change(name, number, *tags)  # one append for all of them
    _report(
        as_json,
        {"name": name, "version": number, "tags": list(av.tags)},
        f"{name}:{number} tags: {', '.join(av.tags) or '-'}",
    )


@artifacts_app.command("register")
def register_artifact(
    path: Annotated[
        str, typer.Argument(help="A local file or folder, or a path in the artifact store.")
    ],
    name: Annotated[str, typer.Option("--name", "-n", help="The artifact name.")],
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag the new version.")] = None,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Copy existing data into the store as a new version of NAME, with its content hash."""
    from lineagelog.api.cli.session import open_client

    client = open_client(database_url, artifact_store)
    source = path if "://" in path else str(Path(path).expanduser().resolve())
    av = client.register_artifact(source, name, tags=tag or ())
    _report(
        as_json,
        {
            "id": av.id,
            "name": av.name,
            "version": av.version,
            "uri": av.uri,
            "content_hash": av.content_hash,
            "size": av.size,
            "tags": list(av.tags),
        },
        f"registered {av.name}:{av.version} ({av.id}) sha256:{av.content_hash[:12]}",
    )


@artifacts_app.command("delete")
def delete_artifact(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="ARTIFACT",
            help="`model:3`, a version id or a unique id prefix (never a bare name).",
        ),
    ],
    reason: Annotated[str, typer.Option(help="Why, recorded in the tombstone event.")] = "",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Delete a version: record a tombstone event, then remove its bytes (lineage keeps it)."""
    from lineagelog.api.cli.session import open_client
    from lineagelog.domain.errors import ArtifactNotFoundError

    client = open_client(database_url, artifact_store)
    found = client.get_artifact_version(ref)
    name, version = found.name, found.version
    if ref.strip() == name:
        raise ArtifactNotFoundError(
            f"`artifacts delete` needs an explicit version, got the name {ref!r}; write "
            f"NAME:VERSION (e.g. {name}:{version}) or the version's id"
        )
    if not yes and not found.deleted:  # a deleted version has nothing left to lose
        if not sys.stdin.isatty():
            raise LineageError(
                f"`artifacts delete {ref}` asks for confirmation and there is no terminal to "
                "ask on; pass -y (--yes) to delete without asking"
            )
        typer.confirm(f"delete the bytes of {name}:{version}?", abort=True)
    av = client.delete_artifact_version(name, version, reason=reason)
    _report(
        as_json,
        {"id": av.id, "name": name, "version": version, "deleted": av.deleted},
        f"deleted {name}:{version} ({av.id})",
    )


@app.command("gc")
def gc(
    apply: Annotated[bool, typer.Option("--apply", help="Remove; without it, only list.")] = False,
    min_age: Annotated[
        float,
        typer.Option(
            min=0, help="Spare orphan folders younger than this many seconds (writes in flight)."
        ),
    ] = 3600.0,
    lease_max_age: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            help="A write lease from another host protects its folder this long (this host's "
            "leases hold while their process runs).",
        ),
    ] = 86400.0,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Find artifact bytes no event points to (e.g. left by a crash); remove them with --apply.

    Folders a running writer holds a write lease on are never removed.
    """
    from lineagelog.api.cli.output import emit_json, print_table
    from lineagelog.api.cli.session import open_client

    report = open_client(database_url, artifact_store).gc(
        apply=apply, min_age_s=min_age, lease_max_age_s=lease_max_age
    )
    if as_json:
        emit_json({"applied": apply, "decisions": [d.__dict__ for d in report.decisions]})
        return
    verb = "removed" if apply else "would remove"
    print_table(
        None,
        ["ACTION", "FOLDER", "WHY"],
        [(verb if d.action == "remove" else d.action, d.uri, d.reason) for d in report.decisions],
        empty="no orphan artifact bytes",
    )
    if report.removed and not apply:
        typer.echo(f"dry run: {len(report.removed)} folder(s) would be removed; add --apply")


@app.command("prune")
def prune(
    keep: Annotated[int, typer.Option(min=1, help="Keep the newest N versions of each name.")],
    name: Annotated[str | None, typer.Option(help="Only prune this artifact name.")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Delete; without it, only list.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Also delete versions a kept version was derived from.")
    ] = False,
    reuse_window: Annotated[
        float,
        typer.Option(
            metavar="SECONDS",
            help="Keep versions a cache hit reused less than this many seconds ago.",
        ),
    ] = 3600.0,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Delete old untagged versions, keeping the newest N per name and what they derive from.

    Versions in use are kept too: consumed or reused by a run still running, or
    reused by a cache hit within --reuse-window.
    """
    from lineagelog.api.cli.output import emit_json, print_table
    from lineagelog.api.cli.session import open_client

    client = open_client(database_url, artifact_store)
    report = client.prune(
        keep=keep, name=name, apply=apply, force=force, reuse_window_s=reuse_window
    )
    if as_json:
        emit_json(
            {
                "applied": apply,
                "decisions": [
                    {
                        "name": d.version.name,
                        "version": d.version.version_name or str(d.version.version),
                        "id": d.version.id,
                        "action": d.action,
                        "reason": d.reason,
                    }
                    for d in report.decisions
                ],
            }
        )
        return
    verb = "deleted" if apply else "would delete"
    print_table(
        None,
        ["ACTION", "VERSION", "WHY"],
        [
            (verb if d.action == "delete" else "keep", d.version.label, d.reason)
            for d in report.decisions
        ],
        empty="no artifact versions",
    )
    if report.deleted and not apply:
        typer.echo(f"dry run: {len(report.deleted)} version(s) would be deleted; add --apply")


def _report(as_json: bool, value: dict[str, object], line: str) -> None:
    from lineagelog.api.cli.output import emit_json

    if as_json:
        emit_json(value)
    else:
        typer.echo(line)
