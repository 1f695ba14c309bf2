"""The outbox and replay log: events written in the transaction that caused them, announced on commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

CHANNEL = "callsight_events"
EVENT_ORDER_LOCK = 0x63616C6C  # one key for every instance
_COLUMNS = "event_id, created_at, type, incident_id, hotline, area, payload"


@dataclass(frozen=True)
class Event:
    """One stored event; the NOTIFY payload carries only its id."""

    event_id: int
    created_at: datetime
    type: str
    incident_id: uuid.UUID | None
    hotline: str | None
    area: str | None
    payload: dict[str, Any]


def _event(row: asyncpg.Record) -> Event:
    return Event(**dict(row))


async def append(
    conn: asyncpg.Connection,
    type_: str,
    incident_id: uuid.UUID,
    hotline: str,
    area: str | None,
    payload: dict[str, Any],
) -> Event:
    """Stores an event and queues its NOTIFY, both effective only when the transaction commits."""
    # Held until COMMIT: event ids then follow commit order, so "everything after id N" misses nothing
    # that commits later with a lower id (resume relies on it). The lock is taken last in a transaction.
    await conn.execute("SELECT pg_advisory_xact_lock($1)", EVENT_ORDER_LOCK)
    row = await conn.fetchrow(
        f"INSERT INTO events (type, incident_id, hotline, area, payload) VALUES ($1, $2, $3, $4, $5) "
        f"RETURNING {_COLUMNS}",
        type_,
        incident_id,
        hotline,
        area,
        payload,
    )
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(row["event_id"]))
    return _event(row)


async def get(conn: asyncpg.Connection, event_id: int) -> Event | None:
    """One event by id."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM events WHERE event_id = $1", event_id)
    return _event(row) if row else None


async def after(
    conn: asyncpg.Connection, event_id: int, not_before: datetime, limit: int = 10_000
) -> list[Event]:
    """Events newer than `event_id` and not older than `not_before`, oldest first (for resume)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE event_id > $1 AND created_at >= $2 ORDER BY event_id LIMIT $3",
        event_id,
        not_before,
        limit,
    )
    return [_event(row) for row in rows]


async def oldest_since(conn: asyncpg.Connection, not_before: datetime) -> int | None:
    """The first event id inside the retention window."""
    value = await conn.fetchval("SELECT min(event_id) FROM events WHERE created_at >= $1", not_before)
    return int(value) if value is not None else None


async def latest_id(conn: asyncpg.Connection) -> int:
    """The newest event id (0 when there is none): where a new instance starts following."""
    return int(await conn.fetchval("SELECT coalesce(max(event_id), 0) FROM events"))
