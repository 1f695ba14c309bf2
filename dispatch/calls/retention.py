"""Personal data is kept no longer than needed: closed calls, their fixes and their events expire."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg

from dispatch.storage.db import UNAVAILABLE

log = logging.getLogger(__name__)
BATCH = 1000
_EXPIRED = "SELECT incident_id FROM calls WHERE status = 'closed' AND closed_at < $1 LIMIT $2"


async def expire_calls(pool: asyncpg.Pool, retention_s: int) -> int:
    """Deletes calls closed longer ago than the retention, in batches of short transactions."""
    cutoff = datetime.now(UTC) - timedelta(seconds=retention_s)
    deleted = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            ids = [row["incident_id"] for row in await conn.fetch(_EXPIRED, cutoff, BATCH)]
            if not ids:
                return deleted
            await conn.execute("DELETE FROM events WHERE incident_id = ANY($1::uuid[])", ids)
            await conn.execute("DELETE FROM calls WHERE incident_id = ANY($1::uuid[])", ids)
        deleted += len(ids)


async def run_call_retention(pool: asyncpg.Pool, retention_s: int, every_s: float = 3600.0) -> None:
    """Expires calls hourly until cancelled; the database being away only skips a round."""
    while True:
        try:
            deleted = await expire_calls(pool, retention_s)
            if deleted:
                log.info("retention: deleted %d closed calls with their fixes and events", deleted)
        except (*UNAVAILABLE, asyncpg.PostgresError) as exc:
            log.warning("call retention skipped: %s", exc)
        await asyncio.sleep(every_s)
