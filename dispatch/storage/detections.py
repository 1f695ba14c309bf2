"""Detections: batch insert in one statement, the recent ones per camera, and retention in small batches."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from dispatch.detections.model import DetectionIn

# detected_at as rfc3339_utc writes it, formatted by the server: the server's own text depends on the
# session's time zone, and formatting a few hundred times per incident in Python cost more than the query.
_AT_TEXT = """to_char(d.detected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
    || CASE WHEN date_trunc('second', d.detected_at) = d.detected_at THEN ''
            ELSE to_char(d.detected_at AT TIME ZONE 'UTC', '.US') END || 'Z'"""
# The JSON-ready columns of a detections row aliased `d` (see row_to_json).
COLUMNS = f"""d.detection_id, d.camera_id, {_AT_TEXT} AS detected_at, d.kind, d.label, d.confidence, d.box,
    d.snapshot_url, d.attributes::text AS attributes"""
_STORED = "detection_id, camera_id, detected_at, kind, label, confidence, box, snapshot_url, attributes"
# The batch goes as one JSON text, parsed by the server: no per-value encoding of a dozen arrays in Python.
# Text cast to json: pooled connections encode json parameters themselves, plain ones do not.
_INSERT = f"""
INSERT INTO detections ({_STORED})
SELECT {_STORED} FROM json_populate_recordset(NULL::detections, $1::text::json)
ON CONFLICT (detection_id) DO NOTHING
RETURNING detection_id
"""
# One backward scan of (camera_id, detected_at) per camera, merged newest first, so that the merge stops after
# `limit` rows in all (PostgreSQL 15 cannot return a scan over `camera_id = ANY(...)` in time order: it reads
# and sorts every camera's whole window, a thousand rows from as many pages at 10M rows). The (SELECT $n)
# hide the values from the planner: it then keeps one generic plan per statement, where planning twenty
# branches each time cost a millisecond, and a quiet camera's estimate never tempts it into a bitmap scan
# plus sort that reads all of a busy camera's window. Each branch's LIMIT makes it choose the index order.
# Short text: asyncpg keeps prepared statements of up to 15 KiB only, and 50 cameras make 56 branches.
_BRANCH = """(SELECT * FROM detections WHERE camera_id = (SELECT ($1::text[])[{i}])
    AND detected_at >= (SELECT $2::timestamptz) ORDER BY detected_at DESC LIMIT (SELECT $3::bigint))"""
# Branches come in steps of 8, so a connection prepares few statements; a branch past the last camera
# compares with NULL and ends at once.
_BRANCH_STEP = 8
# PostgreSQL plans a prepared statement's first five executions one by one and builds the generic plan it
# keeps at the sixth.
EXECUTIONS_TO_GENERIC = 6


@dataclass(frozen=True)
class Lookback:
    """Which of its cameras' detections an incident carries: those at or after `since`, at most `limit`."""

    since: datetime
    limit: int


# One detection as JSON, with the keys and values of row_to_json.
_JSON = f"""json_build_object('detection_id', d.detection_id, 'camera_id', d.camera_id,
    'detected_at', {_AT_TEXT}, 'kind', d.kind, 'label', d.label, 'confidence', d.confidence, 'box', d.box,
    'snapshot_url', d.snapshot_url, 'attributes', d.attributes)"""


def _newest(branches: int) -> str:
    union = "\nUNION ALL ".join(_BRANCH.format(i=i) for i in range(1, branches + 1))
    return f"""({union}
    ORDER BY detected_at DESC, detection_id LIMIT (SELECT $3::bigint)) AS d"""


@functools.cache
def _recent_sql(branches: int) -> str:
    return f"SELECT {COLUMNS} FROM {_newest(branches)}\nORDER BY d.detected_at DESC, d.detection_id"


def recent_json_sql(branches: int) -> str:
    """The look-back of `recent` as one query answering a JSON array, for a statement that stores it too;
    its parameters are recent's: $1 camera ids (unique), $2 since, $3 limit. See statement_size."""
    return f"""SELECT coalesce(json_agg({_JSON} ORDER BY d.detected_at DESC, d.detection_id), '[]')
FROM {_newest(branches)}"""


# An open call shows its cameras' detections from `lookback` before the call on: those are kept.
_DELETE = """
WITH keep AS (
    SELECT cam->>'camera_id' AS camera_id, min(c.received_at) - $5::interval AS since
    FROM calls AS c CROSS JOIN LATERAL jsonb_array_elements(c.cameras) AS cam
    WHERE $4 AND c.status = 'open'
    GROUP BY 1
), doomed AS (
    SELECT d.ctid FROM detections AS d
    WHERE d.ctid > $3::tid AND d.detected_at < $1
      AND NOT EXISTS (SELECT 1 FROM keep AS k WHERE k.camera_id = d.camera_id AND d.detected_at >= k.since)
    LIMIT $2
)
DELETE FROM detections WHERE ctid IN (SELECT ctid FROM doomed) RETURNING ctid
"""


async def insert_new(conn: asyncpg.Connection, items: Sequence[DetectionIn]) -> list[DetectionIn]:
    """Stores the items in one statement; returns those that were not stored before (retries are skipped)."""
    if not items:
        return []
    # One id order for every writer: two overlapping batches then wait for each other instead of deadlocking.
    ordered = sorted(items, key=lambda item: item.detection_id)
    # The fields as they are: vars() costs a quarter of model_dump(); orjson writes times in RFC 3339.
    rows = await conn.fetch(_INSERT, orjson.dumps([vars(item) for item in ordered]).decode())
    new = {row["detection_id"] for row in rows}
    return [item for item in items if item.detection_id in new]


async def insert_many(conn: asyncpg.Connection, items: Sequence[DetectionIn]) -> tuple[int, int]:
    """Stores the items in one round trip; returns (accepted, duplicates)."""
    new = await insert_new(conn, items)
    return len(new), len(items) - len(new)


def row_to_json(row: asyncpg.Record) -> dict[str, Any]:
    """A row selected with COLUMNS as the JSON-ready dict the service answers."""
    return {**row, "attributes": orjson.loads(row["attributes"])}


async def get(conn: asyncpg.Connection, detection_id: str) -> dict[str, Any] | None:
    """One stored detection, JSON-ready, or None."""
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM detections AS d WHERE d.detection_id = $1", detection_id
    )
    return row_to_json(row) if row else None


async def recent(
    conn: asyncpg.Connection,
    camera_ids: Sequence[str],
    since: datetime,
    limit: int,
) -> list[dict[str, Any]]:
    """These cameras' detections at or after `since`, newest first, at most `limit`, JSON-ready."""
    unique = list(dict.fromkeys(camera_ids))
    if not unique or limit <= 0:
        return []
    rows = await conn.fetch(_recent_sql(statement_size(len(unique))), unique, since, limit)
    return [row_to_json(row) for row in rows]


def statement_size(cameras: int) -> int:
    """The branches of the look-back statement for this many unique cameras (at least one step)."""
    return max(-(-cameras // _BRANCH_STEP), 1) * _BRANCH_STEP


async def plan_recent(conn: asyncpg.Connection, max_cameras: int) -> None:
    """Runs every look-back statement until the connection keeps its generic plan: otherwise a new
    connection's first calls pay for planning them, 2-11 ms a time (the calls bench's first 100 calls)."""
    since = datetime.now(UTC)
    for branches in statement_sizes(max_cameras):
        for _ in range(EXECUTIONS_TO_GENERIC):
            await conn.fetch(_recent_sql(branches), [], since, 1)


def statement_sizes(max_cameras: int) -> range:
    """The sizes of the look-back statements that calls of up to `max_cameras` cameras use."""
    return range(_BRANCH_STEP, statement_size(max_cameras) + 1, _BRANCH_STEP)


async def delete_older_than(
    conn: asyncpg.Connection,
    cutoff: datetime,
    batch: int = 10_000,
    keep_referenced: bool = True,
    lookback: timedelta = timedelta(minutes=10),
) -> int:
    """Deletes detections older than `cutoff` (sparing open calls' cameras), `batch` rows per statement."""
    # Call it outside a transaction: each batch then commits alone and holds its locks briefly.
    deleted, after = 0, (0, 0)
    while True:
        rows = await conn.fetch(_DELETE, cutoff, batch, after, keep_referenced, lookback)
        deleted += len(rows)
        if len(rows) < batch:
            return deleted
        # Resume after the last row deleted: the scan never walks again over pages it has emptied.
        after = max(row["ctid"] for row in rows)
