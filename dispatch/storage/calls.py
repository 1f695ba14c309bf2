"""Calls (incidents) and their location fixes; callers see CallNotFound, not database errors."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from dispatch.storage import detections as detection_store
from dispatch.storage.detections import Lookback
from dispatch.storage.events import CHANNEL, EVENT_ORDER_LOCK, Event

_COLUMNS = (
    "incident_id, call_id, hotline, status, received_at, opened_at, updated_at, closed_at, close_reason, "
    "caller_last3, area, location, cameras"
)


class CallNotFound(Exception):
    """No call with this id."""


@dataclass(frozen=True)
class StoredCall:
    incident_id: uuid.UUID
    call_id: str
    hotline: str
    status: str
    received_at: datetime
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    caller_last3: str | None
    area: str | None
    location: dict[str, Any] | None
    cameras: list[dict[str, Any]]


@dataclass(frozen=True)
class NewCall:
    """What the pipeline has for a call before it is stored."""

    incident_id: uuid.UUID
    call_id: str
    hotline: str
    received_at: datetime
    caller_hash: str | None
    caller_last3: str | None
    area: str | None
    location: dict[str, Any] | None
    cameras: list[dict[str, Any]]
    region_wkb: bytes | None

    def opened(self, at: datetime) -> StoredCall:
        """The call as it is once stored, opened at `at`."""
        fields = (self.caller_last3, self.area, self.location, self.cameras)
        return StoredCall(
            self.incident_id,
            self.call_id,
            self.hotline,
            "open",
            self.received_at,
            at,
            at,
            None,
            None,
            *fields,
        )


def _call(row: asyncpg.Record) -> StoredCall:
    return StoredCall(**dict(row))


# The look-back ($1-$3, see detections.recent_json_sql), the call and its event in one statement: one round
# trip, its own transaction. The event-order lock is taken per inserted call, after the look-back (the lateral
# reads it), and held to COMMIT. The cameras are sent and parsed once, for the call and for its event.
@functools.cache
def _open_sql(branches: int) -> str:
    return f"""
WITH recent(detections) AS ({detection_store.recent_json_sql(branches)}
), call AS (
    INSERT INTO calls (incident_id, call_id, hotline, received_at, caller_hash, caller_last3, area, location,
                       cameras, region_m, opened_at, updated_at)
    VALUES ($4, $5, $6, $7, $8, $9, $10, $11, $12, ST_SetSRID(ST_GeomFromWKB($13), $14), $15, $15)
    ON CONFLICT DO NOTHING
    RETURNING incident_id
), event AS (
    INSERT INTO events (type, incident_id, hotline, area, payload)
    SELECT 'incident.opened', call.incident_id, $6, $10,
           jsonb_build_object('incident', $16::jsonb, 'cameras', $12::jsonb, 'detections', ordered.detections)
    FROM call, LATERAL (SELECT r.detections, pg_advisory_xact_lock({EVENT_ORDER_LOCK})
                        FROM recent AS r WHERE call.incident_id IS NOT NULL) AS ordered
    RETURNING event_id, created_at
)
SELECT event_id, created_at, pg_notify('{CHANNEL}', event_id::text), recent.detections FROM event, recent"""


async def open_call(
    conn: asyncpg.Connection,
    call: NewCall,
    srid: int,
    opened_at: datetime,
    incident: dict[str, Any],
    lookback: Lookback,
) -> Event | None:
    """Stores a new call and its `incident.opened` event in one statement; None when the call id is already
    stored (a retry). The event's payload: the incident's fields, its cameras and their recent detections."""
    cameras = list(dict.fromkeys(camera["camera_id"] for camera in call.cameras))
    row = await conn.fetchrow(
        _open_sql(detection_store.statement_size(len(cameras))),
        cameras,
        lookback.since,
        lookback.limit,
        call.incident_id,
        call.call_id,
        call.hotline,
        call.received_at,
        call.caller_hash,
        call.caller_last3,
        call.area,
        call.location,
        call.cameras,
        call.region_wkb,
        srid,
        opened_at,
        incident,
    )
    if row is None:
        return None
    shown = {"incident": incident, "cameras": call.cameras, "detections": row["detections"]}
    return Event(
        row["event_id"],
        row["created_at"],
        "incident.opened",
        call.incident_id,
        call.hotline,
        call.area,
        shown,
    )


async def plan_open(conn: asyncpg.Connection, max_cameras: int) -> None:
    """Runs each opening statement until the connection keeps its generic plan (see detections.plan_recent),
    for a call stored beforehand so that the runs store nothing; rolled back, so nothing is kept."""
    now = datetime.now(UTC)
    incident_id = uuid.uuid4()
    held = conn.transaction()
    await held.start()
    try:
        await conn.execute(
            "INSERT INTO calls (incident_id, call_id, hotline, received_at) VALUES ($1, $2, '113', $3)",
            incident_id,
            str(incident_id),
            now,
        )
        for size in detection_store.statement_sizes(max_cameras):
            cameras = [{"camera_id": str(i)} for i in range(size)]
            call = NewCall(incident_id, str(incident_id), "113", now, None, None, None, None, cameras, None)
            for _ in range(detection_store.EXECUTIONS_TO_GENERIC):
                await open_call(conn, call, 0, now, {}, Lookback(now, 1))
    finally:
        await held.rollback()


async def get(conn: asyncpg.Connection, call_id: str, lock: bool = False) -> StoredCall:
    """The stored call, optionally locked for update; CallNotFound otherwise."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM calls WHERE call_id = $1" + (" FOR UPDATE" if lock else ""), call_id
    )
    if row is None:
        raise CallNotFound(call_id)
    return _call(row)


async def add_location(
    conn: asyncpg.Connection,
    incident_id: uuid.UUID,
    seq: int | None,
    content_hash: str,
    reported: dict[str, Any],
    region: dict[str, Any],
) -> bool:
    """Records a fix; False when this fix was already recorded (a retry)."""
    row = await conn.fetchrow(
        """INSERT INTO call_locations (incident_id, seq, content_hash, reported, region)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (incident_id, content_hash) DO NOTHING RETURNING location_id""",
        incident_id,
        seq,
        content_hash,
        reported,
        region,
    )
    return row is not None


async def feed_paths(conn: asyncpg.Connection, incident_id: uuid.UUID) -> set[str]:
    """The gateway paths of an incident's current cameras (empty when there is no such incident)."""
    rows = await conn.fetch(
        "SELECT cam->>'feed_path' AS path FROM calls, jsonb_array_elements(cameras) AS cam "
        "WHERE incident_id = $1 AND cam->>'feed_path' IS NOT NULL",
        incident_id,
    )
    return {row["path"] for row in rows}


async def newest_seq(conn: asyncpg.Connection, incident_id: uuid.UUID) -> int | None:
    """The highest seq among the call's fixes."""
    value = await conn.fetchval("SELECT max(seq) FROM call_locations WHERE incident_id = $1", incident_id)
    return int(value) if value is not None else None


async def rematch(
    conn: asyncpg.Connection,
    incident_id: uuid.UUID,
    area: str | None,
    location: dict[str, Any],
    cameras: list[dict[str, Any]],
    region_wkb: bytes,
    srid: int,
) -> StoredCall:
    """Replaces the call's current location and match."""
    row = await conn.fetchrow(
        f"""UPDATE calls SET area = $2, location = $3, cameras = $4,
                region_m = ST_SetSRID(ST_GeomFromWKB($5), $6), updated_at = now()
            WHERE incident_id = $1 RETURNING {_COLUMNS}""",
        incident_id,
        area,
        location,
        cameras,
        region_wkb,
        srid,
    )
    return _call(row)


_CLOSE = f"""
WITH call AS (
    UPDATE calls SET status = 'closed', closed_at = $2, close_reason = $3, updated_at = $2
    WHERE incident_id = $1 AND status = 'open' AND updated_at = $4
    RETURNING incident_id, hotline, area
), event AS (
    INSERT INTO events (type, incident_id, hotline, area, payload)
    SELECT 'incident.closed', call.incident_id, call.hotline, call.area, $5
    FROM call, LATERAL (SELECT pg_advisory_xact_lock({EVENT_ORDER_LOCK})) AS ordered
    RETURNING event_id, created_at
)
SELECT event_id, created_at, pg_notify('{CHANNEL}', event_id::text) FROM event"""


async def close(
    conn: asyncpg.Connection, closed: StoredCall, read_at: datetime, payload: dict[str, Any]
) -> Event | None:
    """Closes an open call with its `incident.closed` event in one statement (its own transaction), unless
    it changed since it was read with `updated_at = read_at` (then None: read it again)."""
    assert closed.closed_at is not None
    row = await conn.fetchrow(
        _CLOSE, closed.incident_id, closed.closed_at, closed.close_reason, read_at, payload
    )
    if row is None:
        return None
    return Event(
        row["event_id"],
        row["created_at"],
        "incident.closed",
        closed.incident_id,
        closed.hotline,
        closed.area,
        payload,
    )


async def open_for_cameras(conn: asyncpg.Connection, camera_ids: list[str]) -> list[asyncpg.Record]:
    """(incident_id, hotline, area, camera_id) of open incidents listing any of these cameras."""
    return list(
        await conn.fetch(
            """SELECT c.incident_id, c.hotline, c.area, cam->>'camera_id' AS camera_id
               FROM calls c, jsonb_array_elements(c.cameras) cam
               WHERE c.status = 'open' AND cam->>'camera_id' = ANY($1::text[])""",
            camera_ids,
        )
    )


async def open_by_caller(conn: asyncpg.Connection, hashes: list[str]) -> list[StoredCall]:
    """Open calls from a caller, by any of the number's keyed hashes."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM calls WHERE status = 'open' AND caller_hash = ANY($1::text[])
            ORDER BY opened_at""",
        hashes,
    )
    return [_call(row) for row in rows]
