"""The same match answered by PostGIS alone: ST_DWithin on the GiST-indexed sectors, <-> KNN for nearby."""

from __future__ import annotations

import asyncpg

_COVERING = """
WITH p AS (SELECT ST_SetSRID(ST_MakePoint($1::float8, $2::float8), $3::int) AS g, $4::float8 AS r)
SELECT c.camera_id, ST_Distance(c.point_m, p.g) AS distance_m,
       CASE WHEN p.r > 0
            THEN ST_Area(ST_Intersection(c.sector_m, ST_Buffer(p.g, p.r, 64)))
                 / ST_Area(ST_Buffer(p.g, p.r, 64))
            ELSE 1.0 END AS coverage
FROM cameras c, p
WHERE ST_DWithin(c.sector_m, p.g, p.r)
"""
_NEARBY = """
WITH p AS (SELECT ST_SetSRID(ST_MakePoint($1::float8, $2::float8), $3::int) AS g)
SELECT c.camera_id, ST_Distance(c.point_m, p.g) AS distance_m
FROM cameras c, p
WHERE ST_DWithin(c.point_m, p.g, $5::float8)
ORDER BY c.point_m <-> p.g
LIMIT $4::int
"""


async def covering(
    conn: asyncpg.Connection, x: float, y: float, srid: int, radius_m: float
) -> list[tuple[str, float, float]]:
    """(camera id, distance, coverage) of every camera whose sector comes within radius_m of the point."""
    rows = await conn.fetch(_COVERING, x, y, srid, radius_m)
    return [(r["camera_id"], float(r["distance_m"]), min(1.0, float(r["coverage"]))) for r in rows]


async def nearby(
    conn: asyncpg.Connection, x: float, y: float, srid: int, k: int, within_m: float
) -> list[tuple[str, float]]:
    """(camera id, distance) of the k nearest cameras within within_m, nearest first."""
    rows = await conn.fetch(_NEARBY, x, y, srid, k, within_m)
    return [(r["camera_id"], float(r["distance_m"])) for r in rows]
