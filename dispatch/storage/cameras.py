"""Camera registry queries: bulk upsert through COPY, reads, deletes, heartbeats and the PostGIS match."""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

import asyncpg
import orjson

from dispatch.cameras.model import CameraOut, Streams

CHANNEL = "callsight_cameras"
# From this many cameras, and when they at least double the table, GiST indexes are dropped and rebuilt.
REBUILD_MIN_ROWS = 100_000
BULK_TIMEOUT_S = 600.0
_FIELDS = (
    "camera_id",
    "name",
    "lat",
    "lon",
    "height_m",
    "heading_deg",
    "fov_deg",
    "range_m",
    "kind",
    "pan_min_deg",
    "pan_max_deg",
    "quality",
    "connected",
    "status",
    "stream_rtsp",
    "stream_path",
    "area",
    "owner",
    "tags",
    "public",
)
# The staging rows stay in the row (no TOAST compression) up to a page; sectors are EWKB of ~2 kB each.
_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS camera_staging (
    camera_id text, name text, lat float8, lon float8, height_m float8, heading_deg float8, fov_deg float8,
    range_m float8, kind text, pan_min_deg float8, pan_max_deg float8, quality text, connected bool,
    status text, stream_rtsp text, stream_path text, area text, owner text, tags text, public bool,
    x float8, y float8, sector bytea
) WITH (toast_tuple_target = 8160) ON COMMIT DROP
"""
_MERGE = """
WITH merged AS (
    INSERT INTO cameras ({cols}, geom, point_m, sector_m, updated_at)
    SELECT {cols_cast}, ST_SetSRID(ST_MakePoint(lon, lat), 4326), ST_SetSRID(ST_MakePoint(x, y), $1),
           ST_GeomFromEWKB(sector), now()
    FROM camera_staging
    ON CONFLICT (camera_id) DO UPDATE SET {updates}, updated_at = now()
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS created, count(*) AS written FROM merged
"""
# lz4 fails fast on incompressible coordinates where pglz spends a third of the insert; maintenance_work_mem
# lets each index rebuild sort in memory.
_TUNING = """
SELECT set_config('maintenance_work_mem', '256MB', true),
       (SELECT set_config(name, 'lz4', true) FROM pg_settings
        WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals))
"""
_GIST_INDEXES = """
SELECT indexdef, format('DROP INDEX %I.%I', schemaname, indexname) AS drop
FROM pg_indexes
WHERE schemaname = current_schema() AND tablename = 'cameras' AND indexdef LIKE '% USING gist %'
"""
_SELECT = "SELECT " + ", ".join(_FIELDS) + " FROM cameras"


def _merge_sql() -> str:
    cols = ", ".join(_FIELDS)
    cast = ", ".join("tags::jsonb" if f == "tags" else f for f in _FIELDS)
    updates = ", ".join(f"{f} = EXCLUDED.{f}" for f in (*_FIELDS[1:], "geom", "point_m", "sector_m"))
    return _MERGE.format(cols=cols, cols_cast=cast, updates=updates)


_MERGE_SQL = _merge_sql()


def staging_rows(
    cameras: Sequence[CameraOut], xs: Sequence[float], ys: Sequence[float], sectors: Sequence[bytes]
) -> list[tuple[Any, ...]]:
    """COPY rows of cameras with their metric point and sector EWKB, built column by column."""
    streams = [camera.streams for camera in cameras]
    special: dict[str, list[Any]] = {
        "stream_rtsp": [s.rtsp for s in streams],
        "stream_path": [s.path for s in streams],
        "tags": [orjson.dumps(camera.tags).decode() if camera.tags else "{}" for camera in cameras],
    }
    columns = [special[f] if f in special else list(map(attrgetter(f), cameras)) for f in _FIELDS]
    return list(zip(*columns, xs, ys, sectors, strict=True))


class BulkWrite:
    """Cameras written in one transaction: COPY to staging and merge; GiST indexes rebuilt if faster."""

    def __init__(self, conn: asyncpg.Connection, srid: int) -> None:
        self.conn = conn
        self.srid = srid
        self.created = self.written = 0
        self.last_id = ""
        self._rebuild: list[str] = []

    async def start(self, total: int) -> None:
        """Prepares the transaction for `total` cameras; call inside it, before `add`."""
        await self.conn.execute(_TUNING)
        await self.conn.execute(_STAGING)
        if total >= REBUILD_MIN_ROWS and total >= await _estimated_rows(self.conn):
            # Sorting a million boxes once beats a million GiST insertions, but the dropped index takes
            # an ACCESS EXCLUSIVE lock: readers wait until commit, so only for loads that at least double.
            rows = await self.conn.fetch(_GIST_INDEXES)
            for row in rows:
                await self.conn.execute(row["drop"])
            self._rebuild = [row["indexdef"] for row in rows]

    async def add(self, records: Sequence[tuple[Any, ...]]) -> None:
        """Creates or replaces one chunk of cameras (rows from staging_rows)."""
        if not records:
            return
        await self.conn.execute("TRUNCATE camera_staging")
        await self.conn.copy_records_to_table("camera_staging", records=records, timeout=BULK_TIMEOUT_S)
        counts = await self.conn.fetchrow(_MERGE_SQL, self.srid, timeout=BULK_TIMEOUT_S)
        self.created += counts["created"]
        self.written += counts["written"]
        self.last_id = records[-1][0]

    async def finish(self) -> tuple[int, int]:
        """Rebuilds dropped indexes, announces the change; returns (created, updated)."""
        for definition in self._rebuild:
            await self.conn.execute(definition, timeout=BULK_TIMEOUT_S)
        if self.written:
            payload = self.last_id if self.written == 1 else "*"
            await self.conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
        return self.created, self.written - self.created


async def _estimated_rows(conn: asyncpg.Connection) -> float:
    """The planner's row count of cameras (0 when empty, infinite when never counted and not empty)."""
    estimate = await conn.fetchval("SELECT reltuples FROM pg_class WHERE oid = 'cameras'::regclass")
    if estimate >= 0:
        return float(estimate)
    return 0.0 if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM cameras)") else math.inf


async def upsert(conn: asyncpg.Connection, records: Sequence[tuple[Any, ...]], srid: int) -> tuple[int, int]:
    """Creates or replaces cameras; returns (created, updated). Call inside a transaction."""
    bulk = BulkWrite(conn, srid)
    await bulk.start(len(records))
    await bulk.add(records)
    return await bulk.finish()


def _camera(row: asyncpg.Record) -> CameraOut:
    values = dict(row)
    values["streams"] = Streams(rtsp=values.pop("stream_rtsp"), path=values.pop("stream_path"))
    return CameraOut.model_validate(values)


async def get(conn: asyncpg.Connection, camera_id: str) -> CameraOut | None:
    """One camera, or None."""
    row = await conn.fetchrow(_SELECT + " WHERE camera_id = $1", camera_id)
    return _camera(row) if row else None


async def get_many(conn: asyncpg.Connection, camera_ids: Sequence[str]) -> list[CameraOut]:
    """The cameras with these ids that exist."""
    rows = await conn.fetch(_SELECT + " WHERE camera_id = ANY($1::text[])", list(camera_ids))
    return [_camera(row) for row in rows]


async def all_cameras(conn: asyncpg.Connection) -> list[CameraOut]:
    """Every camera, for loading the in-process index."""
    return [_camera(row) for row in await conn.fetch(_SELECT)]


async def delete(conn: asyncpg.Connection, camera_id: str) -> bool:
    """Removes a camera; False when it was not there."""
    done = await conn.execute("DELETE FROM cameras WHERE camera_id = $1", camera_id)
    if done.endswith(" 0"):
        return False
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, camera_id)
    return True


async def set_status(conn: asyncpg.Connection, camera_id: str, status: str) -> bool:
    """Records a heartbeat; False for an unknown camera."""
    done = await conn.execute(
        "UPDATE cameras SET status = $2, updated_at = now() WHERE camera_id = $1", camera_id, status
    )
    if done.endswith(" 0"):
        return False
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, camera_id)
    return True


async def count(conn: asyncpg.Connection) -> int:
    """How many cameras the registry holds."""
    return int(await conn.fetchval("SELECT count(*) FROM cameras"))


async def existing_ids(conn: asyncpg.Connection, camera_ids: Sequence[str]) -> set[str]:
    """Which of these camera ids are registered."""
    rows = await conn.fetch(
        "SELECT camera_id FROM cameras WHERE camera_id = ANY($1::text[])", list(camera_ids)
    )
    return {row["camera_id"] for row in rows}
