"""The asyncpg pool and the one place database failures become domain errors."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson


class StorageUnavailable(Exception):
    """The database cannot be reached or cannot commit; the sender should retry."""


UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.CannotConnectNowError,
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("jsonb", "json"):
        await conn.set_type_codec(kind, schema="pg_catalog", encoder=_encode_json, decoder=orjson.loads)


def _encode_json(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _keep_session(conn: asyncpg.Connection) -> None:
    # asyncpg rolls back an open transaction on release by itself. Its default reset (UNLISTEN, RESET ALL,
    # unlock all, CLOSE ALL) would be one more round trip on every call: pooled connections never LISTEN,
    # SET or take session locks (settings are SET LOCAL, locks transaction-level, temp tables ON COMMIT DROP).
    return None


async def create_pool(
    dsn: str, min_size: int, max_size: int, backends: set[int] | None = None
) -> asyncpg.Pool:
    """A pool whose connections speak JSON through orjson; `backends` collects their server process ids."""

    async def init(conn: asyncpg.Connection) -> None:
        await _init_connection(conn)
        if backends is not None:
            backends.add(conn.get_server_pid())

    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init,
        reset=_keep_session,
        command_timeout=10,
        timeout=3,
    )


@contextlib.asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One transaction; connection loss or server failure becomes StorageUnavailable."""
    try:
        async with pool.acquire() as conn, conn.transaction():
            yield conn
    except UNAVAILABLE as exc:
        raise StorageUnavailable(str(exc)) from exc


@contextlib.asynccontextmanager
async def connection(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection without a transaction, with the same error mapping."""
    try:
        async with pool.acquire() as conn:
            yield conn
    except UNAVAILABLE as exc:
        raise StorageUnavailable(str(exc)) from exc
