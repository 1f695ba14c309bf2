"""Camera registry queries: bulk upsert through COPY, reads, deletes, heartbeats and the PostGIS match."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from dispatch.cameras.model import CameraOut, Streams

CHANNEL = "callsight_cameras"
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
_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS camera_staging (
    camera_id text, name text, lat float8, lon float8, height_m float8, heading_deg float8, fov_deg float8,
    range_m float8, kind text, pan_min_deg float8, pan_max_deg float8, quality text, connected bool,
    status text, stream_rtsp text, stream_path text, area text, owner text, tags text, public bool,
    x float8, y float8, sector bytea
) ON COMMIT DROP
"""
_MERGE = """
INSERT INTO cameras ({cols}, geom, point_m, sector_m, updated_at)
SELECT {cols_cast}, ST_SetSRID(ST_MakePoint(lon, lat), 4326), ST_SetSRID(ST_MakePoint(x, y), $1),
       ST_SetSRID(ST_GeomFromWKB(sector), $1), now()
FROM camera_staging
ON CONFLICT (camera_id) DO UPDATE SET {updates}, updated_at = now()
RETURNING (xmax = 0) AS inserted
"""
_SELECT = "SELECT " + ", ".join(_FIELDS) + " FROM cameras"


def _merge_sql() -> str:
    cols = ", ".join(_FIELDS)
    cast = ", ".join("tags::jsonb" if f == "tags" else f for f in _FIELDS)
    updates = ", ".join(f"{f} = EXCLUDED.{f}" for f in (*_FIELDS[1:], "geom", "point_m", "sector_m"))
    return _MERGE.format(cols=cols, cols_cast=cast, updates=updates)


_MERGE_SQL = _merge_sql()


def staging_record(camera: CameraOut, x: float, y: float, sector_wkb: bytes) -> tuple[Any, ...]:
    """One COPY row for a camera with its derived metric point and sector."""
    values = camera.model_dump(exclude={"streams", "tags"})
    values["stream_rtsp"] = camera.streams.rtsp
    values["stream_path"] = camera.streams.path
    values["tags"] = orjson.dumps(camera.tags).decode()
    return (*(values[f] for f in _FIELDS), x, y, sector_wkb)


async def upsert(conn: asyncpg.Connection, records: Sequence[tuple[Any, ...]], srid: int) -> tuple[int, int]:
    """Creates or replaces cameras in one statement; returns (created, updated). Call inside a transaction."""
    await conn.execute(_STAGING)
    await conn.execute("TRUNCATE camera_staging")
    await conn.copy_records_to_table("camera_staging", records=records)
    rows = await conn.fetch(_MERGE_SQL, srid)
    created = sum(1 for row in rows if row["inserted"])
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, "*" if len(records) != 1 else records[0][0])
    return created, len(rows) - created


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
