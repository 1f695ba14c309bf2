"""Camera registry queries: bulk writes through binary COPY, reads, deletes, heartbeats."""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import AsyncIterator, Sequence
from operator import attrgetter
from typing import NamedTuple

import asyncpg
import numpy as np
import numpy.typing as npt
import orjson

from dispatch.cameras.model import CameraOut, Streams, columns

CHANNEL = "callsight_cameras"
# From this many cameras, and when they at least triple the table, GiST indexes are dropped and rebuilt.
REBUILD_MIN_ROWS = 100_000
BULK_TIMEOUT_S = 600.0
COPY_PIECE = 1 << 20
_FIELDS = columns(CameraOut, "stream_")
_SELECT = "SELECT " + ", ".join(_FIELDS) + " FROM cameras"

# Binary COPY: per camera a head of texts, streams, tags and pan limits (null but for tags), a fixed-size
# tail (numbers, flags, both points, the sector's size and EWKB header), then the sector's coordinates.
_TEXTS = ("camera_id", "name", "kind", "quality", "status", "area", "owner")
_MIXED = ("stream_rtsp", "stream_path", "tags", "pan_min_deg", "pan_max_deg")
_FLOATS = ("lat", "lon", "height_m", "heading_deg", "fov_deg", "range_m")
_FLAGS = ("connected", "public")
COPY_COLUMNS = (*_TEXTS, *_MIXED, *_FLOATS, *_FLAGS, "geom", "point_m", "sector_m")
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, no flags, no header extension
_COPY_TRAILER = b"\xff\xff"
_COUNT = struct.pack(">h", len(COPY_COLUMNS))
_I4 = struct.Struct(">i").pack
_NULL = _I4(-1)
_NULLS = _NULL * 2  # streams and pan limits are most often both absent
_FLOAT = struct.Struct(">id").pack
_numbers = attrgetter(*_FLOATS, *_FLAGS)
# EWKB is PostGIS' WKB with an SRID, here little-endian inside COPY's big-endian framing: a point, or a
# polygon of one ring whose coordinates follow.
_SRID_FLAG = 0x20000000
_EWKB = [("order", "u1"), ("kind", "<u4"), ("srid", "<u4")]
_POINT = np.dtype([*_EWKB, ("xy", "<f8", (2,))])
_RING = np.dtype([*_EWKB, ("rings", "<u4"), ("points", "<u4")])
_TAIL = np.dtype(
    [
        *((name, [("size", ">i4"), ("value", ">f8")]) for name in _FLOATS),
        *((name, [("size", ">i4"), ("value", "u1")]) for name in _FLAGS),
        *((name, [("size", ">i4"), ("value", _POINT)]) for name in ("geom", "point_m")),
        ("sector_m", [("size", ">i4"), ("value", _RING)]),
    ]
)
WGS84 = 4326

# The staging rows stay in the row (no TOAST compression attempt) up to a page: sectors run to ~2 kB.
_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS camera_staging (LIKE cameras INCLUDING DEFAULTS)
WITH (toast_tuple_target = 8160) ON COMMIT DROP
"""
# A row that would not change is left alone: re-importing a registry rewrites only what changed.
_MERGE = """
WITH merged AS (
    INSERT INTO cameras SELECT * FROM camera_staging
    ON CONFLICT (camera_id) DO UPDATE SET {updates}, updated_at = now()
    WHERE ({old}) IS DISTINCT FROM ({new})
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FROM merged WHERE inserted
"""


def _merge_sql() -> str:
    stored = (*_FIELDS[1:], "geom", "point_m", "sector_m")
    updates = ", ".join(f"{f} = EXCLUDED.{f}" for f in stored)
    old = ", ".join(f"cameras.{f}" for f in stored)
    new = ", ".join(f"EXCLUDED.{f}" for f in stored)
    return _MERGE.format(updates=updates, old=old, new=new)


_MERGE_SQL = _merge_sql()
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


class CopyChunk(NamedTuple):
    """Binary COPY data of some cameras (COPY_COLUMNS), how many, and the last one's id."""

    data: bytes
    rows: int
    last_id: str


class Geometry(NamedTuple):
    """Derived for n cameras: both points as (n, 2) x/y, and their sector rings one after the other."""

    wgs84: npt.NDArray[np.float64]  # lon, lat
    metric: npt.NDArray[np.float64]
    srid: int  # of the metric point and sector
    rings: npt.NDArray[np.float64]  # (points, 2), closed rings of `sizes` points each
    sizes: npt.NDArray[np.int64]


def copy_chunk(cameras: Sequence[CameraOut], geometry: Geometry) -> CopyChunk:
    """Cameras as binary COPY data, with their derived points and sector."""
    n = len(cameras)
    pieces: list[bytes | memoryview] = [b""] * (3 * n + 2)
    pieces[0], pieces[-1] = _COPY_HEADER, _COPY_TRAILER
    # One list per part, interleaved by slice assignment: the bytes of a row are never copied but by the join.
    pieces[1:-1:3] = map(_head, cameras)
    pieces[2:-1:3] = _split(_tail(cameras, geometry).tobytes(), _TAIL.itemsize)
    ends = np.cumsum(geometry.sizes) * geometry.rings.itemsize * 2
    coordinates = geometry.rings.data.cast("B")
    pieces[3:-1:3] = map(coordinates.__getitem__, map(slice, [0, *ends[:-1].tolist()], ends.tolist()))
    return CopyChunk(b"".join(pieces), n, cameras[-1].camera_id if cameras else "")


def _head(camera: CameraOut) -> bytes:
    """A camera's field count and variable-size fields, read off its fields' dictionary: faster."""
    d = vars(camera)
    tags = orjson.dumps(d["tags"])
    low, high = d["pan_min_deg"], d["pan_max_deg"]
    return b"".join((
        _COUNT, _text(d["camera_id"]), _text(d["name"]),
        _repeated(d["kind"], d["quality"], d["status"], d["area"], d["owner"]), _streams(d["streams"]),
        _I4(len(tags) + 1), b"\x01", tags,  # jsonb: format version 1, then the text
        _NULLS if low is None and high is None else _float(low) + _float(high),
    ))  # fmt: skip


def _streams(streams: Streams) -> bytes:
    return (
        _NULLS if streams.rtsp is None and streams.path is None else _text(streams.rtsp) + _text(streams.path)
    )


def _tail(cameras: Sequence[CameraOut], geometry: Geometry) -> npt.NDArray[np.void]:
    """The fixed-size part of each camera's row, built for all of them at once."""
    tail = np.empty(len(cameras), _TAIL)
    numbers = np.array(list(map(_numbers, cameras)), np.float64).reshape(len(cameras), -1)
    for at, name in enumerate((*_FLOATS, *_FLAGS)):
        tail[name]["size"] = tail.dtype[name]["value"].itemsize
        tail[name]["value"] = numbers[:, at]
    for name, xy, srid in (("geom", geometry.wgs84, WGS84), ("point_m", geometry.metric, geometry.srid)):
        tail[name]["size"] = _POINT.itemsize
        _ewkb(tail[name]["value"], 1, srid)["xy"] = xy
    sector = tail["sector_m"]
    sector["size"] = _RING.itemsize + geometry.sizes * geometry.rings.itemsize * 2
    ring = _ewkb(sector["value"], 3, geometry.srid)
    ring["rings"], ring["points"] = 1, geometry.sizes
    return tail


def _ewkb(header: npt.NDArray[np.void], kind: int, srid: int) -> npt.NDArray[np.void]:
    header["order"], header["kind"], header["srid"] = 1, kind | _SRID_FLAG, srid
    return header


def _split(blob: bytes, size: int) -> list[bytes]:
    """Fixed-size records out of one buffer."""
    return [blob[at : at + size] for at in range(0, len(blob), size)]


def _text(value: str | None) -> bytes:
    if value is None:
        return _NULL
    data = value.encode()
    return _I4(len(data)) + data


@functools.lru_cache(maxsize=1 << 14)
def _repeated(*values: str) -> bytes:
    """Kind, quality, status, area and owner: a few thousand combinations over a million cameras."""
    return b"".join(map(_text, values))


def _float(value: float | None) -> bytes:
    return _NULL if value is None else _FLOAT(8, value)


class BulkWrite:
    """Cameras written in one transaction: binary COPY, straight in or merged through staging."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.created = self.written = 0
        self.last_id = ""
        self._rebuild: list[str] = []
        self._direct = False

    async def start(self, total: int, unique: bool) -> None:
        """Prepares the transaction for `total` cameras (`unique`: no id twice); call before `add`."""
        await self.conn.execute(_TUNING)
        await self.conn.execute(_STAGING)
        if total >= REBUILD_MIN_ROWS and await _estimated_rows(self.conn) * 2 <= total:
            # Sorting a million boxes once beats a million GiST insertions, but dropping an index locks
            # readers out until commit: only for loads that at least triple the table. A re-import
            # leaves unchanged rows alone and needs little index work.
            await self.conn.execute("LOCK TABLE cameras IN ACCESS EXCLUSIVE MODE")
            rows = await self.conn.fetch(_GIST_INDEXES)
            for row in rows:
                await self.conn.execute(row["drop"])
            self._rebuild = [row["indexdef"] for row in rows]
            # Locked, empty, and no id twice: nothing can conflict, so no staging and no merge.
            self._direct = unique and not await self.conn.fetchval("SELECT EXISTS (SELECT 1 FROM cameras)")

    async def add(self, chunk: CopyChunk) -> None:
        """Creates or replaces one chunk of cameras."""
        if not chunk.rows:
            return
        if self._direct:
            await self._copy("cameras", chunk.data)
            self.created += chunk.rows
        else:
            await self.conn.execute("TRUNCATE camera_staging")
            await self._copy("camera_staging", chunk.data)
            self.created += await self.conn.fetchval(_MERGE_SQL, timeout=BULK_TIMEOUT_S)
        self.written += chunk.rows
        self.last_id = chunk.last_id

    async def _copy(self, table: str, data: bytes) -> None:
        await self.conn.copy_to_table(
            table, source=_pieces(data), columns=COPY_COLUMNS, format="binary", timeout=BULK_TIMEOUT_S
        )

    async def finish(self) -> tuple[int, int]:
        """Rebuilds dropped indexes, announces the change; returns (created, updated)."""
        for definition in self._rebuild:
            await self.conn.execute(definition, timeout=BULK_TIMEOUT_S)
        if self.written:
            payload = self.last_id if self.written == 1 else "*"
            await self.conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
        return self.created, self.written - self.created


async def _pieces(data: bytes) -> AsyncIterator[memoryview]:
    """COPY data as messages of COPY_PIECE bytes."""
    # As one message, a chunk (~25 MB) reaches the server's rows only once it has all arrived, and the server
    # maps fresh memory for each one.
    view = memoryview(data)
    for start in range(0, len(data), COPY_PIECE):
        yield view[start : start + COPY_PIECE]


async def _estimated_rows(conn: asyncpg.Connection) -> float:
    """The planner's row count of cameras (0 when empty, infinite when never counted and not empty)."""
    estimate = await conn.fetchval("SELECT reltuples FROM pg_class WHERE oid = 'cameras'::regclass")
    if estimate >= 0:
        return float(estimate)
    return 0.0 if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM cameras)") else math.inf


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
