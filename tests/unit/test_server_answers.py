"""Errors raised by an app served beside FastAPI's stack get the server's JSON answers."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from fastapi import HTTPException

from lineagelog.api.server.problems import Answered
from lineagelog.domain.errors import StorageError


def _post(raised: BaseException | None, started: bool = False) -> httpx.Response:
    async def app(scope, receive, send) -> None:
        if started:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        if raised is not None:
            raise raised
        await send({"type": "http.response.body", "body": b"ok"})

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=Answered(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/api/v1/lineage")

    return asyncio.run(call())


def test_storage_errors_refusals_and_the_unexpected_get_their_status_and_a_message(
    caplog,
) -> None:
    with caplog.at_level(logging.ERROR, logger="lineagelog.server"):
        storage = _post(StorageError("the database is locked; try again"))
        refused = _post(HTTPException(403, "this server is read-only"))
        unexpected = _post(ZeroDivisionError("secret detail"))

    assert (storage.status_code, storage.json()["error"]) == (503, "StorageError")
    assert storage.json()["message"] == "the database is locked; try again"
    assert (refused.status_code, refused.json()["message"]) == (403, "this server is read-only")
    assert unexpected.status_code == 500
    assert "ZeroDivisionError" in unexpected.json()["message"]
    assert "secret detail" not in unexpected.text  # details go to the log only
    assert "secret detail" in caplog.text


def test_an_error_after_the_response_started_is_raised_on() -> None:
    with pytest.raises(ZeroDivisionError):
        _post(ZeroDivisionError("late"), started=True)
