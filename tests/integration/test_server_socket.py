"""The server's listening socket: answers leave at once, not after the client's delayed ACK."""

from __future__ import annotations

import asyncio
import socket

from lineagelog.api.cli.serve import _listen


def test_connections_accepted_by_the_server_send_without_nagle_delay() -> None:
    listening = _listen("127.0.0.1", 0)
    host, port = listening.getsockname()
    seen: list[int] = []

    async def exchange() -> None:
        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connection = writer.get_extra_info("socket")
            seen.append(connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=listening)
        async with server:
            reader, writer = await asyncio.open_connection(host, port)
            await reader.read()  # until the server closes it
            writer.close()

    asyncio.run(exchange())

    assert len(seen) == 1 and seen[0] != 0
