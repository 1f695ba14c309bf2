"""Writing cameras: derive geometry once, COPY in chunks, announce the change to every instance."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import asyncpg

from dispatch.cameras import importer
from dispatch.cameras.copy_data import CopyChunk
from dispatch.cameras.derive import copy_chunk
from dispatch.cameras.model import CameraIn, CameraOut
from dispatch.storage import cameras as camera_store
from dispatch.storage.db import transaction
from geo.crs import Projector
from geo.gcpause import paused_gc

# A list of cameras is written in chunks as large as a streamed file's.
CHUNK = importer.CHUNK
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
    chunks = (cameras[start : start + CHUNK] for start in range(0, len(cameras), CHUNK))
    unique = len({c.camera_id for c in cameras}) == len(cameras)
    return await write_chunks(pool, projector, chunks, len(cameras), unique, progress)


async def write_chunks(
    pool: asyncpg.Pool,
    projector: Projector,
    chunks: Iterator[Sequence[CameraIn | CameraOut]],
    expected: int,
    unique: bool,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Stores chunks of about `expected` cameras (`unique`: no id twice) in one transaction."""
    with paused_gc():
        async with (
            transaction(pool) as conn,
            contextlib.aclosing(_derived(chunks, projector, expected)) as rows,
        ):
            bulk = camera_store.BulkWrite(conn)
            await bulk.start(expected, unique)
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


def _derived(
    chunks: Iterator[Sequence[CameraIn | CameraOut]], projector: Projector, expected: int
) -> AsyncGenerator[CopyChunk, None]:
    """COPY data chunk by chunk; worker threads prepare the next ones while the database takes this one."""
    if expected > INLINE_MAX:
        return _pipelined(chunks, projector)
    return _inline(chunks, projector)


async def _inline(
    chunks: Iterator[Sequence[CameraIn | CameraOut]], projector: Projector
) -> AsyncGenerator[CopyChunk, None]:
    for chunk in chunks:
        yield copy_chunk(chunk, projector)


async def _pipelined(
    chunks: Iterator[Sequence[CameraIn | CameraOut]], projector: Projector
) -> AsyncGenerator[CopyChunk, None]:
    """Three stages at once: a thread reads chunk k + 2, another derives k + 1, the database copies k."""
    # Deriving spends half its time in numpy's trigonometry, without the GIL: reading runs beside it.
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(1, "read") as reader, ThreadPoolExecutor(1, "derive") as deriver:
        reading = loop.run_in_executor(reader, next, chunks, None)
        deriving: list[asyncio.Future[CopyChunk]] = []
        try:
            while (chunk := await reading) is not None:
                reading = loop.run_in_executor(reader, next, chunks, None)
                deriving.append(loop.run_in_executor(deriver, copy_chunk, chunk, projector))
                if len(deriving) == 2:
                    yield await deriving.pop(0)
            while deriving:
                yield await deriving.pop(0)
        finally:
            reading.cancel()  # a stopped write does not wait for what was started but is still queued
            for future in deriving:
                future.cancel()
