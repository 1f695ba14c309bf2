"""Writing cameras: derive geometry once, COPY in chunks, announce the change to every instance."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import asyncpg

from dispatch.cameras.derive import staging_records
from dispatch.cameras.model import CameraOut
from dispatch.storage import cameras as camera_store
from dispatch.storage.db import transaction
from geo.crs import Projector

CHUNK = 20_000
Progress = Callable[[int], None]


async def write(
    pool: asyncpg.Pool,
    projector: Projector,
    cameras: Sequence[CameraOut],
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Stores cameras in one transaction (all or nothing); returns (created, updated)."""
    created = updated = 0
    async with transaction(pool) as conn:
        for start in range(0, len(cameras), CHUNK):
            chunk = list(cameras[start : start + CHUNK])
            made, replaced = await camera_store.upsert(
                conn, staging_records(chunk, projector), projector.srid
            )
            created, updated = created + made, updated + replaced
            if progress:
                progress(len(chunk))
    return created, updated
