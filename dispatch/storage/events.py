"""The outbox and replay log: events written in the transaction that caused them, announced on commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from dispatch.storage.db import connection

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
    (event,) = await append_many(conn, type_, [(incident_id, hotline, area, payload)])
    return event


# The event-order lock is held from here to COMMIT: event ids follow commit order, so "everything after
# id N" misses nothing that commits later with a lower id (resume relies on it). Take it last in a
# transaction.
_APPEND_MANY = f"""
WITH new AS (
    INSERT INTO events (type, incident_id, hotline, area, payload)
    SELECT $1, e.incident_id, e.hotline, e.area, e.payload::jsonb
    FROM (SELECT pg_advisory_xact_lock({EVENT_ORDER_LOCK})) AS ordered,
         unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY
             AS e(incident_id, hotline, area, payload, n)
    ORDER BY e.n
    RETURNING event_id, created_at
)
SELECT event_id, created_at, pg_notify('{CHANNEL}', event_id::text) FROM new ORDER BY event_id"""


async def append_many(
    conn: asyncpg.Connection,
    type_: str,
    items: Sequence[tuple[uuid.UUID, str, str | None, dict[str, Any]]],
) -> list[Event]:
    """Stores events of one type (incident, hotline, area, payload each) and queues their NOTIFYs in one
    statement: the event-order lock is held for one round trip, not three per event."""
    if not items:
        return []
    incidents, hotlines, areas, payloads = zip(*items, strict=True)
    texts = [orjson.dumps(payload).decode() for payload in payloads]
    rows = await conn.fetch(_APPEND_MANY, type_, list(incidents), list(hotlines), list(areas), texts)
    # Ids are drawn in the rows' order (ORDER BY e.n), so the n-th smallest id is the n-th item.
    return [
        Event(row["event_id"], row["created_at"], type_, incident, hotline, area, payload)
        for row, (incident, hotline, area, payload) in zip(rows, items, strict=True)
    ]


async def get(conn: asyncpg.Connection, event_id: int) -> Event | None:
    """One event by id."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM events WHERE event_id = $1", event_id)
    return _event(row) if row else None


async def by_ids(conn: asyncpg.Connection, event_ids: list[int], not_before: datetime) -> list[Event]:
    """The events of these ids not older than `not_before` (for resume), in id order."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE event_id = ANY($1::bigint[]) AND created_at >= $2 "
        "ORDER BY event_id",
        event_ids,
        not_before,
    )
    return [_event(row) for row in rows]


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


@dataclass(frozen=True)
class EventTable:
    """The events table read through the pool, as the hub reads it back (catch-up and resume)."""

    pool: asyncpg.Pool

    async def after(self, event_id: int, not_before: datetime) -> list[Event]:
        """See `after`."""
        async with connection(self.pool) as conn:
            return await after(conn, event_id, not_before)

    async def by_ids(self, event_ids: list[int], not_before: datetime) -> list[Event]:
        """See `by_ids`."""
        async with connection(self.pool) as conn:
            return await by_ids(conn, event_ids, not_before)
