"""The in-process camera index kept equal to PostGIS: loaded at start, updated on change notifications."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

import asyncpg

from dispatch.cameras.model import CameraOut, to_geo
from dispatch.storage import cameras as camera_store
from geo.camera import Camera
from geo.crs import Projector
from geo.index import CameraIndex

log = logging.getLogger(__name__)
FixedFields = Callable[[Camera, CameraOut | None], dict[str, Any]]
_FIXED_KEPT = 100_000


class LiveIndex:
    """The geo/ index plus the registry records needed to render a match."""

    def __init__(self, projector: Projector) -> None:
        self.projector = projector
        self.index = CameraIndex(projector)
        self.records: dict[str, CameraOut] = {}
        self.loaded = False
        # Per camera, the call-independent part of its match entry, built for the camera object it describes
        # (a change replaces that object): half of a dense-centre match was rebuilding these 20-odd fields.
        self._fixed: dict[str, tuple[Camera, dict[str, Any]]] = {}
        self._changes: asyncio.Queue[str] = asyncio.Queue()

    async def load(self, pool: asyncpg.Pool) -> None:
        """Replaces the index with every camera in the registry."""
        started = time.perf_counter()
        async with pool.acquire() as conn:
            records = await camera_store.all_cameras(conn)
        self.records = {record.camera_id: record for record in records}
        self.index.load(to_geo(record) for record in records)
        self.loaded = True
        # The index is hundreds of thousands of long-lived objects. A full collection walked them all (370 ms
        # for the 37k city, measured under load): the calls benchmark's p99 of a second. Frozen, it does not;
        # they are still freed by reference counting when a reload replaces them.
        gc.freeze()
        log.info("camera index loaded: %d cameras in %.2f s", len(records), time.perf_counter() - started)

    def fixed_fields(self, camera: Camera, build: FixedFields) -> dict[str, Any]:
        """`build(camera, record)`, kept until the camera changes."""
        kept = self._fixed.get(camera.camera_id)
        if kept is not None and kept[0] is camera:
            return kept[1]
        if len(self._fixed) >= _FIXED_KEPT:
            self._fixed.clear()  # a bound on memory for registries of a million cameras
        fields = build(camera, self.records.get(camera.camera_id))
        self._fixed[camera.camera_id] = (camera, fields)
        return fields

    def put(self, record: CameraOut) -> None:
        """Adds or replaces one camera (after a write on this instance)."""
        self.index.upsert(to_geo(record))
        self.records[record.camera_id] = record

    def drop(self, camera_id: str) -> None:
        """Removes one camera."""
        self.index.remove(camera_id)
        self.records.pop(camera_id, None)

    def notified(self, payload: str) -> None:
        """Queues a change announced by any instance (a camera id, or * for many)."""
        self._changes.put_nowait(payload)

    async def follow(self, pool: asyncpg.Pool) -> None:
        """Applies queued changes in order until cancelled; a failure queues a full reload, retried later."""
        while True:
            payload = await self._changes.get()
            try:
                await self._apply(pool, payload)
            except Exception as exc:
                # The database may be away: keep answering from the index we have, reload when it is back.
                log.warning("camera change %s not applied (%s); reloading the index shortly", payload, exc)
                await asyncio.sleep(1.0)
                self._changes.put_nowait("*")

    async def _apply(self, pool: asyncpg.Pool, payload: str) -> None:
        if payload == "*":
            await self.load(pool)
            return
        async with pool.acquire() as conn:
            record = await camera_store.get(conn, payload)
        if record is None:
            self.drop(payload)
        else:
            self.put(record)
