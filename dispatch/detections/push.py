"""New detections reach the consoles of the open incidents whose cameras saw them; old ones are retired."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg

from dispatch.detections.model import DetectionIn, to_record
from dispatch.hub import Hub
from dispatch.storage import calls as call_store
from dispatch.storage import detections as detection_store
from dispatch.storage import events as event_store
from dispatch.storage.db import StorageUnavailable, connection

log = logging.getLogger(__name__)


async def push(pool: asyncpg.Pool, hub: Hub, new: list[DetectionIn]) -> int:
    """Stores one `detection` event per (detection, open incident) and publishes them; returns how many."""
    by_camera: dict[str, list[DetectionIn]] = {}
    for item in new:
        by_camera.setdefault(item.camera_id, []).append(item)
    async with connection(pool) as conn:
        incidents = await call_store.open_for_cameras(conn, sorted(by_camera))
        if not incidents:  # the usual case: one read, no transaction
            return 0
        items = [
            (
                row["incident_id"],
                row["hotline"],
                row["area"],
                {"incident_id": str(row["incident_id"]), "detection": to_record(item)},
            )
            for row in incidents
            for item in by_camera[row["camera_id"]]
        ]
        events = await event_store.append_many(conn, "detection", items)
    for event in events:
        hub.publish(event)
    return len(events)


async def retire(pool: asyncpg.Pool, retention_s: int, every_s: float = 3600.0) -> None:
    """Deletes expired detections in batches, hourly, until cancelled."""
    while True:
        cutoff = datetime.now(UTC) - timedelta(seconds=retention_s)
        try:
            async with pool.acquire() as conn:
                deleted = await detection_store.delete_older_than(conn, cutoff)
            if deleted:
                log.info("retention: deleted %d detections older than %s", deleted, cutoff.isoformat())
        except (StorageUnavailable, OSError, asyncpg.PostgresError) as exc:
            log.warning("retention skipped: %s", exc)
        await asyncio.sleep(every_s)
