"""``lineagelog serve``: the lineage server (JSON API and web page) on uvicorn."""

from __future__ import annotations

import signal
import socket
from typing import Annotated

import typer

from lineagelog.api.cli.common import ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.domain.errors import ConfigurationError

__all__ = ["serve"]


@app.command("serve")
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; beyond loopback needs --token.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free).")
    ] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="LINEAGELOG_SERVER_TOKEN",
            show_envvar=True,
            help="Require `Authorization: Bearer TOKEN` on every route but /healthz.",
        ),
    ] = None,
    allow_writes: Annotated[
        bool,
        typer.Option(
            "--allow-writes", help="Allow tagging, untagging and deleting artifact versions."
        ),
    ] = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Serve the JSON API under /api/v1 and the lineage explorer at / (Ctrl-C stops it)."""
    from lineagelog.api.server.security import Access, check_binding

    check_binding(host, token)
    try:
        import uvicorn

        from lineagelog.api.server import create_app
    except ImportError as e:
        raise ConfigurationError(
            f"`lineagelog serve` needs the server extra ({e.name} is missing): "
            "pip install 'lineagelog[server]'"
        ) from None
    from lineagelog.api.cli.session import open_client

    client = open_client(database_url, artifact_store)
    web = create_app(client, Access(token=token, allow_writes=allow_writes))
    config = uvicorn.Config(
        web,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=3,
        server_header=False,
    )
    server = uvicorn.Server(config)
    listening = _listen(host, port)
    bound = listening.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    mode = "read and write" if allow_writes else "read-only"
    typer.echo(f"lineagelog serving http://{shown}:{bound}/ ({mode}); Ctrl-C stops it", err=True)
    # uvicorn stops on SIGTERM or Ctrl-C, lets open requests end, then re-sends the signal
    # to the handler it found: a quiet one here, so a requested stop exits 0.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _stopped)
    server.run(sockets=[listening])
    typer.echo("lineagelog server stopped", err=True)


def _stopped(signum: int, frame: object) -> None:
    """Nothing more to do: uvicorn has already shut down."""


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one, told in the banner)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose proto
    # says TCP, and accepted sockets inherit it. With proto 0 every response whose headers and
    # body leave in two writes waited for the client's delayed ACK: 40 ms a request.
    listening = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host.strip("[]"), port))
    except OSError as e:
        listening.close()
        raise ConfigurationError(
            f"cannot listen on {host}:{port}: {e.strerror or e}; choose another --port or --host"
        ) from None
    listening.listen(128)
    listening.set_inheritable(True)
    return listening
