"""Writing cameras: derive geometry once, COPY in chunks, announce the change to every instance."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg

from dispatch.cameras.derive import staging_records
from dispatch.cameras.model import CameraIn, CameraOut
from dispatch.gcpause import paused_gc
from dispatch.storage import cameras as camera_store
from dispatch.storage.db import transaction
from geo.crs import Projector

CHUNK = 25_000
# Below this many cameras deriving takes milliseconds: not worth a thread.
INLINE_MAX = 1_000
Progress = Callable[[int], None]


async def write(
    pool: asyncpg.Pool,
    projector: Projector,
    cameras: Sequence[CameraIn | CameraOut],
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Stores cameras in one transaction (all or nothing); returns (created, updated)."""
    # CameraIn records are resolved in the worker thread, while the database takes the previous chunk.
    chunks = [list(cameras[start : start + CHUNK]) for start in range(0, len(cameras), CHUNK)]
    with paused_gc():
        async with transaction(pool) as conn, contextlib.aclosing(_derived(chunks, projector)) as rows:
            bulk = camera_store.BulkWrite(conn, projector.srid)
            await bulk.start(len(cameras))
            done = 0
            async for records in rows:
                await bulk.add(records)
                if progress and done:  # one chunk behind: the last one counts once committed
                    progress(done)
                done = len(records)
            counts = await bulk.finish()
    if progress and done:
        progress(done)
    return counts


async def _derived(
    chunks: list[list[CameraIn | CameraOut]], projector: Projector
) -> AsyncGenerator[list[tuple[Any, ...]], None]:
    """Staging rows chunk by chunk; a worker thread derives the next while the database takes this one."""
    if len(chunks) <= 1 and sum(map(len, chunks)) <= INLINE_MAX:
        for chunk in chunks:
            yield staging_records(chunk, projector)
        return
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(1, thread_name_prefix="derive") as worker:
        pending = loop.run_in_executor(worker, staging_records, chunks[0], projector)
        for following in chunks[1:]:
            records = await pending
            pending = loop.run_in_executor(worker, staging_records, following, projector)
            yield records
        yield await pending
