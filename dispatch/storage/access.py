"""Revoked console tokens and open-data API keys."""

from __future__ import annotations

import asyncpg

REVOKED_CHANNEL = "callsight_revoked"


async def revoke(conn: asyncpg.Connection, token_id: str) -> None:
    """Revokes a console token everywhere: stored, and announced to every instance."""
    await conn.execute("INSERT INTO revoked_tokens (token_id) VALUES ($1) ON CONFLICT DO NOTHING", token_id)
    await conn.execute("SELECT pg_notify($1, $2)", REVOKED_CHANNEL, token_id)


async def revoked_ids(conn: asyncpg.Connection) -> set[str]:
    """Every revoked token id (tokens expire, so the set stays small)."""
    return {row["token_id"] for row in await conn.fetch("SELECT token_id FROM revoked_tokens")}


async def add_key(conn: asyncpg.Connection, key_id: str, secret_hash: str, name: str) -> None:
    """Stores a new API key (only its secret's hash)."""
    await conn.execute(
        "INSERT INTO api_keys (key_id, secret_hash, name) VALUES ($1, $2, $3)", key_id, secret_hash, name
    )


async def key_hash(conn: asyncpg.Connection, key_id: str) -> str | None:
    """The stored hash of a usable key's secret, counting the request."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        "UPDATE api_keys SET requests = requests + 1 WHERE key_id = $1 AND NOT revoked RETURNING secret_hash",
        key_id,
    )
