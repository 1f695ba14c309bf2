"""Writing cameras: derive geometry once, COPY in chunks, announce the change to every instance."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import asyncpg

from dispatch.cameras.derive import copy_chunk
from dispatch.cameras.model import CameraIn, CameraOut
from dispatch.gcpause import paused_gc
from dispatch.storage import cameras as camera_store
from dispatch.storage.db import transaction
from geo.crs import Projector

# Measured at 1M: 10k-camera chunks pipeline as well as 25k ones, with less memory in flight.
CHUNK = 10_000
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
            bulk = camera_store.BulkWrite(conn)
            await bulk.start(len(cameras), unique=len({c.camera_id for c in cameras}) == len(cameras))
            done = 0
            async for chunk in rows:
                await bulk.add(chunk)
                if progress and done:  # one chunk behind: the last one counts once committed
                    progress(done)
                done = chunk.rows
            counts = await bulk.finish()
    if progress and done:
        progress(done)
    return counts


async def _derived(
    chunks: list[list[CameraIn | CameraOut]], projector: Projector
) -> AsyncGenerator[camera_store.CopyChunk, None]:
    """COPY data chunk by chunk; a worker thread derives the next while the database takes this one."""
    if len(chunks) <= 1 and sum(map(len, chunks)) <= INLINE_MAX:
        for chunk in chunks:
            yield copy_chunk(chunk, projector)
        return
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(1, thread_name_prefix="derive") as worker:
        pending = loop.run_in_executor(worker, copy_chunk, chunks[0], projector)
        for following in chunks[1:]:
            ready = await pending
            pending = loop.run_in_executor(worker, copy_chunk, following, projector)
            yield ready
        yield await pending
