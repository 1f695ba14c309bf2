"""Camera registry queries: bulk writes through binary COPY (dispatch.cameras.copy_data), reads, deletes."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence

import asyncpg

from dispatch.cameras.copy_data import COPY_COLUMNS, CopyChunk
from dispatch.cameras.model import CameraOut, Streams, columns

CHANNEL = "callsight_cameras"
# From this many cameras, and when they at least triple the table, GiST indexes are dropped and rebuilt.
REBUILD_MIN_ROWS = 100_000
BULK_TIMEOUT_S = 600.0
COPY_PIECE = 1 << 20
_FIELDS = columns(CameraOut, "stream_")
_SELECT = "SELECT " + ", ".join(_FIELDS) + " FROM cameras"

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
