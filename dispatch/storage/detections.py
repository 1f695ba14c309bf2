"""Detections: batch insert in one statement, the recent ones per camera, and retention in small batches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import orjson

from dispatch.detections.model import DetectionIn, rfc3339_utc

COLUMNS = "detection_id, camera_id, detected_at, kind, label, confidence, box, snapshot_url, attributes::text"
# unnest() zips parallel arrays into rows but flattens a 2-D array, so the box goes as four columns.
_INSERT = """
INSERT INTO detections
    (detection_id, camera_id, detected_at, kind, label, confidence, box, snapshot_url, attributes)
SELECT id, cam, at, kind, label, conf, CASE WHEN bx IS NULL THEN NULL ELSE ARRAY[bx, by, bw, bh] END,
       snap, attrs::jsonb
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::float8[],
            $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::text[], $12::text[])
     AS t(id, cam, at, kind, label, conf, bx, by, bw, bh, snap, attrs)
ON CONFLICT (detection_id) DO NOTHING
RETURNING detection_id
"""
# Per camera, a backward scan of (camera_id, detected_at) stops after `limit` rows however busy the camera is.
# `(SELECT $2)` hides the window from the estimator: seeing a quiet camera's few rows in it, the planner would
# pick a bitmap scan plus sort, which reads every row of a busy camera's window (measured 10x slower).
_RECENT = f"""
SELECT d.* FROM unnest($1::text[]) AS c(camera_id)
CROSS JOIN LATERAL (
    SELECT {COLUMNS} FROM detections
    WHERE camera_id = c.camera_id AND detected_at >= (SELECT $2::timestamptz)
    ORDER BY detected_at DESC LIMIT $3
) AS d
ORDER BY d.detected_at DESC, d.detection_id LIMIT $3
"""
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


def _columns(items: Sequence[DetectionIn]) -> list[list[Any]]:
    boxes = [item.box or (None, None, None, None) for item in items]
    return [
        [item.detection_id for item in items],
        [item.camera_id for item in items],
        [item.detected_at for item in items],
        [item.kind for item in items],
        [item.label for item in items],
        [item.confidence for item in items],
        *([box[i] for box in boxes] for i in range(4)),
        [item.snapshot_url for item in items],
        [orjson.dumps(item.attributes).decode() for item in items],
    ]


async def insert_new(conn: asyncpg.Connection, items: Sequence[DetectionIn]) -> list[DetectionIn]:
    """Stores the items in one round trip; returns those that were not stored before (retries are skipped)."""
    if not items:
        return []
    # One id order for every writer: two overlapping batches then wait for each other instead of deadlocking.
    ordered = sorted(items, key=lambda item: item.detection_id)
    rows = await conn.fetch(_INSERT, *_columns(ordered))
    new = {row["detection_id"] for row in rows}
    return [item for item in items if item.detection_id in new]


async def insert_many(conn: asyncpg.Connection, items: Sequence[DetectionIn]) -> tuple[int, int]:
    """Stores the items in one round trip; returns (accepted, duplicates)."""
    new = await insert_new(conn, items)
    return len(new), len(items) - len(new)


def row_to_json(row: asyncpg.Record) -> dict[str, Any]:
    """A row selected with COLUMNS as the JSON-ready dict the service answers."""
    record = dict(row)
    record["detected_at"] = rfc3339_utc(record["detected_at"])
    record["attributes"] = orjson.loads(record.pop("attributes"))
    return record


async def get(conn: asyncpg.Connection, detection_id: str) -> dict[str, Any] | None:
    """One stored detection, JSON-ready, or None."""
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM detections WHERE detection_id = $1", detection_id)
    return row_to_json(row) if row else None


async def recent(
    conn: asyncpg.Connection,
    camera_ids: Sequence[str],
    since: datetime,
    limit: int,
) -> list[dict[str, Any]]:
    """These cameras' detections at or after `since`, newest first, at most `limit`, JSON-ready."""
    if not camera_ids or limit <= 0:
        return []
    rows = await conn.fetch(_RECENT, list(dict.fromkeys(camera_ids)), since, limit)
    return [row_to_json(row) for row in rows]


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
