"""Detections that change while they last (a Frigate event's new → update → end): one row, kept updated."""

from __future__ import annotations

from typing import Literal

import asyncpg
import orjson

from dispatch.detections.model import DetectionIn

Outcome = Literal["new", "changed", "unchanged", "unregistered"]
# One round trip answers all four outcomes. The camera must be registered, as the HTTP endpoint demands;
# an update that changes nothing writes nothing and returns no row, so consoles are not told twice.
# The time and camera of a detection never change: only what the detector says about it does.
# Attributes go as text cast to jsonb: pooled connections encode jsonb parameters themselves, plain ones not.
_UPSERT = """
WITH cam AS (SELECT EXISTS (SELECT 1 FROM cameras WHERE camera_id = $2) AS known),
written AS (
    INSERT INTO detections AS d
        (detection_id, camera_id, detected_at, kind, label, confidence, box, snapshot_url, attributes)
    SELECT $1, $2, $3, $4, $5, $6, $7::float8[], $8, $9::text::jsonb FROM cam WHERE cam.known
    ON CONFLICT (detection_id) DO UPDATE
    SET kind = EXCLUDED.kind, label = EXCLUDED.label, confidence = EXCLUDED.confidence, box = EXCLUDED.box,
        snapshot_url = EXCLUDED.snapshot_url, attributes = EXCLUDED.attributes
    WHERE (d.kind, d.label, d.confidence, d.box, d.snapshot_url, d.attributes) IS DISTINCT FROM
          (EXCLUDED.kind, EXCLUDED.label, EXCLUDED.confidence, EXCLUDED.box, EXCLUDED.snapshot_url,
           EXCLUDED.attributes)
    RETURNING (xmax = 0) AS inserted
)
SELECT cam.known, written.inserted FROM cam LEFT JOIN written ON true
"""


async def upsert(conn: asyncpg.Connection, item: DetectionIn) -> Outcome:
    """Stores the detection or updates its row in place; says whether it was new, changed or the same."""
    row = await conn.fetchrow(
        _UPSERT,
        item.detection_id,
        item.camera_id,
        item.detected_at,
        item.kind,
        item.label,
        item.confidence,
        list(item.box) if item.box is not None else None,
        item.snapshot_url,
        orjson.dumps(item.attributes).decode(),
    )
    if row is None or not row["known"]:
        return "unregistered"
    if row["inserted"] is None:
        return "unchanged"
    return "new" if row["inserted"] else "changed"
