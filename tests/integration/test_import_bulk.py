"""Bulk camera writes against real PostGIS: chunks, pipelining, GiST rebuilds, counts, rollback, NOTIFY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import numpy as np
import orjson
import pytest
import shapely

from dispatch.cameras import importer, json_chunks, registry
from dispatch.cameras.derive import resolve
from dispatch.cameras.loader import import_file
from dispatch.cameras.model import CameraIn, CameraOut, to_geo
from dispatch.demo_city import generate
from dispatch.settings import Settings
from dispatch.storage import cameras as camera_store
from dispatch.storage.db import create_pool
from geo.crs import Projector
from geo.sector import sector_polygons, view_columns

GIST = "SELECT indexdef FROM pg_indexes WHERE tablename = 'cameras' AND indexdef LIKE '% USING gist %'"


def _city(count: int) -> list[CameraOut]:
    features = generate(cameras=count, seed=11)["features"]
    cameras = []
    for feature in features:
        lon, lat = feature["geometry"]["coordinates"][:2]
        cameras.append(resolve(CameraIn.model_validate({**feature["properties"], "lat": lat, "lon": lon})))
    return cameras


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    made = await create_pool(settings.dsn, 1, 3)
    yield made
    await made.close()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several chunks through the worker thread, and index rebuilds, on a few hundred cameras."""
    monkeypatch.setattr(registry, "CHUNK", 70)
    monkeypatch.setattr(importer, "CHUNK", 70)
    monkeypatch.setattr(json_chunks, "CHUNK_BYTES", 20_000)
    monkeypatch.setattr(registry, "INLINE_MAX", 0)
    monkeypatch.setattr(camera_store, "REBUILD_MIN_ROWS", 50)


def _odd_cameras() -> list[CameraOut]:
    base = {"lat": 10.7769, "lon": 106.7009, "range_m": 80.0}
    shapes = [
        {"kind": "dome", "fov_deg": 360.0, "range_m": 40.0},
        {"kind": "ptz", "fov_deg": 60.0, "pan_min_deg": 300.0, "pan_max_deg": 40.0},
        {"kind": "ptz", "fov_deg": 60.0},
        {"kind": "fixed", "fov_deg": 360.0},
        {"kind": "fixed", "fov_deg": 0.5, "range_m": 0.0005},
        {"kind": "fixed", "fov_deg": 110.0, "heading_deg": 359.9, "range_m": 4999.0},
    ]
    records = [{**base, **shape, "camera_id": f"ODD-{i}"} for i, shape in enumerate(shapes)]
    return [resolve(CameraIn.model_validate(record)) for record in records]


async def test_stored_sectors_are_geo_sector_polygons_with_the_srid(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    projector = Projector(settings.metric_crs)
    cameras = sorted([*_city(400), *_odd_cameras()], key=lambda c: c.camera_id)
    await registry.write(pool, projector, cameras)
    async with pool.acquire() as conn:
        stored = await conn.fetch("SELECT ST_AsEWKB(sector_m) AS sector FROM cameras ORDER BY camera_id")
    ours = shapely.from_wkb([row["sector"] for row in stored])
    assert set(shapely.get_srid(ours).tolist()) == {projector.srid}
    table = view_columns([to_geo(c) for c in cameras], projector)
    assert shapely.equals_exact(ours, sector_polygons(table), 0.0).all()
    assert shapely.is_valid(ours).all()


async def test_chunked_load_rebuilds_indexes_and_counts(
    pool: asyncpg.Pool, settings: Settings, small_chunks: None
) -> None:
    projector = Projector(settings.metric_crs)
    cameras = _city(300)
    async with pool.acquire() as conn:
        indexes = sorted(await conn.fetch(GIST))
    ticks: list[int] = []
    assert await registry.write(pool, projector, cameras, ticks.append) == (300, 0)
    assert sum(ticks) == 300 and len(ticks) == 5
    async with pool.acquire() as conn:
        assert sorted(await conn.fetch(GIST)) == indexes
        stored = await conn.fetch(
            "SELECT camera_id, ST_AsEWKB(sector_m) AS sector, ST_X(point_m) AS x, ST_SRID(geom) AS srid"
            " FROM cameras ORDER BY camera_id"
        )
    table = view_columns([to_geo(c) for c in sorted(cameras, key=lambda c: c.camera_id)], projector)
    expected = sector_polygons(table)
    assert shapely.equals_exact(shapely.from_wkb([r["sector"] for r in stored]), expected, 1e-9).all()
    assert np.allclose([r["x"] for r in stored], table[:, 0], atol=1e-6)
    assert {r["srid"] for r in stored} == {4326}


async def test_replacing_and_adding_counts_each(
    pool: asyncpg.Pool, settings: Settings, small_chunks: None
) -> None:
    projector = Projector(settings.metric_crs)
    cameras = _city(200)
    assert await registry.write(pool, projector, cameras[:120]) == (120, 0)
    moved = [c.model_copy(update={"heading_deg": 45.0}) for c in cameras[:120]]
    assert await registry.write(pool, projector, moved + cameras[120:]) == (80, 120)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM cameras WHERE heading_deg = 45") == 120
        assert await camera_store.count(conn) == 200


async def test_a_failing_chunk_leaves_nothing_and_keeps_the_indexes(
    pool: asyncpg.Pool, settings: Settings, small_chunks: None
) -> None:
    projector = Projector(settings.metric_crs)
    cameras = _city(250)
    # A record the database refuses (its CHECK constraint), in the third chunk.
    cameras[160] = cameras[160].model_copy(update={"quality": "4k"})
    async with pool.acquire() as conn:
        indexes = sorted(await conn.fetch(GIST))
    with pytest.raises(asyncpg.CheckViolationError):
        await registry.write(pool, projector, cameras)
    async with pool.acquire() as conn:
        assert await camera_store.count(conn) == 0
        assert sorted(await conn.fetch(GIST)) == indexes


async def test_one_notification_per_write(pool: asyncpg.Pool, settings: Settings, small_chunks: None) -> None:
    projector = Projector(settings.metric_crs)
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(settings.dsn)
    await listener.add_listener(camera_store.CHANNEL, lambda *args: heard.put_nowait(args[3]))
    try:
        cameras = _city(150)
        await registry.write(pool, projector, cameras)
        await registry.write(pool, projector, cameras[:1])
        assert [await asyncio.wait_for(heard.get(), 5) for _ in range(2)] == ["*", cameras[0].camera_id]
        await asyncio.sleep(0.2)
        assert heard.empty()
    finally:
        await listener.close()


async def test_nothing_to_write(pool: asyncpg.Pool, settings: Settings) -> None:
    assert await registry.write(pool, Projector(settings.metric_crs), []) == (0, 0)


async def test_an_identical_reimport_rewrites_nothing(pool: asyncpg.Pool, settings: Settings) -> None:
    projector = Projector(settings.metric_crs)
    cameras = _city(120)
    assert await registry.write(pool, projector, cameras) == (120, 0)
    stamps = "SELECT camera_id, updated_at, xmin::text FROM cameras ORDER BY camera_id"
    async with pool.acquire() as conn:
        before = await conn.fetch(stamps)
    changed = cameras[7].model_copy(update={"range_m": 99.0})
    assert await registry.write(pool, projector, [*cameras[:7], changed, *cameras[8:]]) == (0, 120)
    async with pool.acquire() as conn:
        after = await conn.fetch(stamps)
    rewritten = {b["camera_id"] for b, a in zip(before, after, strict=True) if tuple(b) != tuple(a)}
    assert rewritten == {changed.camera_id}


async def test_records_still_in_a_projected_crs_are_resolved_on_write(
    pool: asyncpg.Pool, settings: Settings
) -> None:
    projector = Projector(settings.metric_crs)
    x, y = projector.to_metric(106.7009, 10.7769)
    crs = f"EPSG:{projector.srid}"
    records = [CameraIn(camera_id=f"XY-{i}", x=x + i, y=y, crs=crs, heading_deg=90.0) for i in range(3)]
    assert await registry.write(pool, projector, records) == (3, 0)
    async with pool.acquire() as conn:
        stored = await camera_store.get(conn, "XY-2")
        x_m = await conn.fetchval("SELECT ST_X(point_m) FROM cameras WHERE camera_id = 'XY-2'")
    lon, lat = projector.to_wgs84(x + 2, y)
    assert stored is not None
    assert abs(stored.lon - lon) < 1e-9 and abs(stored.lat - lat) < 1e-9
    assert abs(x_m - (x + 2)) < 1e-6


def _varied(count: int) -> list[CameraOut]:
    cameras = []
    for i, camera in enumerate(_city(count)):
        extra: dict[str, object] = {"name": f"Ngã tư Hàng Xanh {i} – “cam”", "public": i % 2 == 0}
        if i % 3 == 0:
            extra["streams"] = {"rtsp": f"rtsp://10.0.0.{i % 250}/s", "path": f"cams/{i}"}
        if i % 4 == 0:
            extra["tags"] = {"vendor": "Hikvision", "note": '🎥 \\ "quoted"'}
        if i % 5 == 0:
            extra.update(status="offline", connected=True, owner="", area="")
        cameras.append(resolve(CameraIn.model_validate({**camera.model_dump(), **extra})))
    return cameras


PATHS = [(0, "cameras"), (30, "camera_staging")]


@pytest.mark.parametrize(("rows_before", "target"), PATHS, ids=["straight-in", "through-staging"])
async def test_every_field_survives_the_binary_copy(
    pool: asyncpg.Pool,
    settings: Settings,
    small_chunks: None,
    monkeypatch: pytest.MonkeyPatch,
    rows_before: int,
    target: str,
) -> None:
    projector = Projector(settings.metric_crs)
    cameras = [*_odd_cameras(), *_varied(160)]
    await registry.write(pool, projector, cameras[:rows_before])
    tables: set[str] = set()
    copy = camera_store.BulkWrite._copy

    async def spy(bulk: camera_store.BulkWrite, table: str, data: bytes) -> None:
        tables.add(table)
        await copy(bulk, table, data)

    monkeypatch.setattr(camera_store.BulkWrite, "_copy", spy)
    assert await registry.write(pool, projector, cameras) == (len(cameras) - rows_before, rows_before)
    assert tables == {target}
    async with pool.acquire() as conn:
        stored = {c.camera_id: c for c in await camera_store.get_many(conn, [c.camera_id for c in cameras])}
    assert [stored[c.camera_id].model_dump() for c in cameras] == [c.model_dump() for c in cameras]


def test_the_command_line_import_reports_its_progress(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "city.geojson"
    path.write_bytes(orjson.dumps(generate(cameras=40, seed=3)))
    assert import_file(settings, path, all_or_nothing=False) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "reading city.geojson",
        "stored 40/40 cameras",
        "read 40 cameras, 0 rejected",
        "created 40, updated 0, rejected 0",
    ]


def _stored(settings: Settings) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(settings.dsn)
        try:
            return await camera_store.count(conn)
        finally:
            await conn.close()

    return asyncio.run(count())


def _city_file(tmp_path: Path, bad: dict[int, dict[str, object]], count: int = 300) -> Path:
    collection = generate(cameras=count, seed=3)
    for index, properties in bad.items():
        collection["features"][index]["properties"].update(properties)
    path = tmp_path / "city.geojson"
    path.write_bytes(orjson.dumps(collection))
    return path


def test_all_or_nothing_stores_nothing_and_reports_every_rejection(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], small_chunks: None
) -> None:
    path = _city_file(tmp_path, {5: {"heading_deg": 400}, 250: {"kind": "drone"}})
    assert import_file(settings, path, all_or_nothing=True) == 1
    err = capsys.readouterr().err
    assert "rejected #5 " in err and "rejected #250 " in err
    assert "2 rejected: nothing imported (--all-or-nothing)" in err
    assert _stored(settings) == 0
    assert import_file(settings, path, all_or_nothing=False) == 1
    assert "created 298, updated 0, rejected 2" in capsys.readouterr().err
    assert _stored(settings) == 298


def test_a_file_broken_part_way_stores_nothing(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], small_chunks: None
) -> None:
    path = _city_file(tmp_path, {})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4] + data[len(data) * 3 // 4 :].replace(b"false", b"nope", 1))
    assert import_file(settings, path, all_or_nothing=False) == 2
    assert "cannot import city.geojson: not valid JSON" in capsys.readouterr().err
    assert _stored(settings) == 0
