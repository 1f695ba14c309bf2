"""The in-process geo/ index and PostGIS must agree on the demo city (a disagreement is a bug in one)."""

from __future__ import annotations

import random

import asyncpg

from dispatch.camera_index import LiveIndex
from dispatch.cameras.derive import resolve
from dispatch.cameras.importer import TypeDefaults, parse_import
from dispatch.cameras.registry import write
from dispatch.demo_city import generate
from dispatch.settings import Settings
from dispatch.storage import match as postgis
from dispatch.storage.db import create_pool
from geo import region as regions
from geo.crs import Projector
from geo.sector import sector_polygon

LOCATIONS = 2000
# Sector arcs are chords within a millimetre of the true arc: ignore cameras that close to the boundary.
TOLERANCE_M = 0.01


async def _loaded(settings: Settings) -> tuple[asyncpg.Pool, LiveIndex]:
    import orjson

    collection = generate(cameras=37_000, seed=7)
    batch = parse_import(orjson.dumps(collection), "application/geo+json", TypeDefaults())
    pool = await create_pool(settings.dsn, 1, 2)
    projector = Projector(settings.metric_crs)
    await write(pool, projector, [resolve(c) for _, c in batch.cameras])
    live = LiveIndex(projector)
    await live.load(pool)
    return pool, live


def _borderline(live: LiveIndex, camera_id: str, region: regions.Region) -> bool:
    camera = live.index.get(camera_id)
    assert camera is not None
    sector = sector_polygon(camera, live.projector)
    gap = sector.exterior.distance(region.geometry.centroid)
    return abs(gap - (region.radius_m or 0.0)) < TOLERANCE_M


async def test_index_and_postgis_agree_on_the_demo_city(settings: Settings) -> None:
    pool, live = await _loaded(settings)
    rng = random.Random(2026)
    srid = live.projector.srid
    disagreements = []
    try:
        async with pool.acquire() as conn:
            for _ in range(LOCATIONS):
                lat, lon = rng.uniform(10.74, 10.82), rng.uniform(106.64, 106.72)
                radius = rng.choice([0.0, 5.0, rng.uniform(5, 200)])
                region = regions.circle(live.projector, lat, lon, radius, 0.95)
                ours = {m.camera.camera_id for m in live.index.covering(region)}
                theirs = {row[0] for row in await postgis.covering(conn, region.x, region.y, srid, radius)}
                odd = {c for c in ours ^ theirs if not _borderline(live, c, region)}
                near_ours = [m.camera.camera_id for m in live.index.nearby(region.x, region.y, 10, 500.0)]
                near_theirs = [
                    row[0] for row in await postgis.nearby(conn, region.x, region.y, srid, 10, 500.0)
                ]
                if odd or near_ours != near_theirs:
                    disagreements.append((lat, lon, radius, sorted(odd), near_ours, near_theirs))
    finally:
        await pool.close()
    assert disagreements == []
