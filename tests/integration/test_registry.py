"""Camera registry endpoints against real PostGIS."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from aiohttp.test_utils import TestClient

from tests.integration.conftest import bearer, signed

Client = TestClient[Any, Any]
CAMERA = {
    "name": "Nguyen Hue / Le Loi",
    "lat": 10.77719,
    "lon": 106.70109,
    "height_m": 8,
    "heading_deg": 212.5,
    "fov_deg": 70,
    "range_m": 80,
    "kind": "fixed",
    "quality": "hd",
    "connected": True,
    "area": "Phuong Sai Gon",
    "tags": {"former_district": "1"},
}


async def put(client: Client, camera_id: str, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    return await client.put(f"/v1/cameras/{camera_id}", data=raw, headers=signed(raw))


async def test_put_creates_then_replaces_and_get_returns_it(client: Client) -> None:
    first = await put(client, "HCM-Q1-00042", CAMERA)
    assert first.status == 201
    second = await put(client, "HCM-Q1-00042", {**CAMERA, "heading_deg": 90})
    assert second.status == 200
    got = await client.get("/v1/cameras/HCM-Q1-00042", headers=bearer("police"))
    assert got.status == 200
    body = await got.json()
    assert body["heading_deg"] == 90
    assert body["area"] == "Phuong Sai Gon"
    assert body["tags"] == {"former_district": "1"}


async def test_put_stores_projected_point_and_sector(client: Client, database_url: str) -> None:
    assert (await put(client, "C1", CAMERA)).status == 201
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT ST_SRID(point_m), ST_GeometryType(sector_m), ST_Area(sector_m), "
            "ST_Distance(ST_Transform(geom, 32648), point_m) FROM cameras"
        ).fetchone()
    assert row is not None
    srid, kind, area, offset = row
    assert (srid, kind) == (32648, "ST_Polygon")
    expected = 3.14159 * 80**2 * 70 / 360
    assert abs(area - expected) / expected < 0.01
    assert offset < 0.01


async def test_delete_then_404(client: Client) -> None:
    await put(client, "C2", CAMERA)
    deleted = await client.delete("/v1/cameras/C2", headers=signed(b""))
    assert deleted.status == 204
    missing = await client.get("/v1/cameras/C2", headers=bearer("fire"))
    assert missing.status == 404
    assert missing.content_type == "application/problem+json"
    again = await client.delete("/v1/cameras/C2", headers=signed(b""))
    assert again.status == 404


async def test_vn2000_coordinates_are_transformed(client: Client) -> None:
    body = {k: v for k, v in CAMERA.items() if k not in ("lat", "lon")}
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:9210", always_xy=True).transform(106.70109, 10.77719)
    response = await put(client, "VN1", {**body, "x": x, "y": y, "crs": "EPSG:9210"})
    assert response.status == 201
    stored = await response.json()
    assert abs(stored["lat"] - 10.77719) < 1e-6 and abs(stored["lon"] - 106.70109) < 1e-6


async def test_status_heartbeat(client: Client) -> None:
    await put(client, "C3", CAMERA)
    # A match renders the camera first, so the heartbeat must replace what the index kept for it.
    assert await nearby_status(client, "C3") == "online"
    raw = b'{"status": "offline"}'
    response = await client.post("/v1/cameras/C3/status", data=raw, headers=signed(raw))
    assert response.status == 200
    got = await (await client.get("/v1/cameras/C3", headers=bearer("police"))).json()
    assert got["status"] == "offline"
    assert await nearby_status(client, "C3") == "offline"
    unknown = await client.post("/v1/cameras/NOPE/status", data=raw, headers=signed(raw))
    assert unknown.status == 404


async def nearby_status(client: Client, camera_id: str) -> str:
    query = f"/v1/cameras/nearby?lat={CAMERA['lat']}&lon={CAMERA['lon']}&limit=5"
    answer = await (await client.get(query, headers=bearer("police"))).json()
    return next(c["status"] for c in answer["cameras"] if c["camera_id"] == camera_id)


async def test_writes_need_a_signature_or_admin(client: Client) -> None:
    raw = json.dumps(CAMERA).encode()
    anonymous = await client.put("/v1/cameras/C4", data=raw)
    assert anonymous.status == 401
    police = await client.put("/v1/cameras/C4", data=raw, headers=bearer("police"))
    assert police.status == 403
    admin = await client.put("/v1/cameras/C4", data=raw, headers=bearer("admin"))
    assert admin.status == 201
    forged = dict(signed(raw))
    forged["X-Callsight-Signature"] = "sha256=" + "0" * 64
    assert (await client.put("/v1/cameras/C5", data=raw, headers=forged)).status == 401
    assert (await client.get("/v1/cameras/C4")).status == 401


async def test_bad_input_is_a_problem_and_writes_nothing(client: Client, database_url: str) -> None:
    cases = [
        (b"{not json", 400),
        (b'{"lat": NaN, "lon": 106.7}', 400),
        (json.dumps({**CAMERA, "lat": 91}).encode(), 422),
        (json.dumps({**CAMERA, "fov_deg": 0}).encode(), 422),
        (json.dumps({**CAMERA, "heading_deg": 361}).encode(), 422),
        (json.dumps({**CAMERA, "kind": "bullet"}).encode(), 422),
        (json.dumps({**CAMERA, "lat": "north"}).encode(), 422),
        (json.dumps({"name": "no position"}).encode(), 422),
        (b"[1, 2]", 422),
    ]
    for raw, status in cases:
        response = await client.put("/v1/cameras/BAD", data=raw, headers=signed(raw))
        assert response.status == status, raw
        problem = await response.json()
        assert response.content_type == "application/problem+json"
        assert problem["status"] == status and problem["title"] and problem["detail"]
        if status == 422:
            assert problem["errors"], raw
    huge = json.dumps({**CAMERA, "name": "x" * 70_000}).encode()
    assert (await client.put("/v1/cameras/BAD", data=huge, headers=signed(huge))).status == 413
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM cameras").fetchone() == (0,)


async def test_import_geojson_keeps_valid_rows_and_lists_rejections(client: Client) -> None:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [106.70 + i / 1000, 10.77]},
            "properties": {"camera_id": f"IMP-{i}", "heading_deg": 10 * i, "fov_deg": 60, "range_m": 50},
        }
        for i in range(5)
    ]
    features[3]["properties"]["fov_deg"] = 400
    raw = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    headers = {**signed(raw), "Content-Type": "application/geo+json"}
    response = await client.post("/v1/cameras/import", data=raw, headers=headers)
    assert response.status == 200
    body = await response.json()
    assert (body["created"], body["updated"]) == (4, 0)
    assert [(r["index"], r["camera_id"]) for r in body["rejected"]] == [(3, "IMP-3")]
    again = await (await client.post("/v1/cameras/import", data=raw, headers=headers)).json()
    assert (again["created"], again["updated"]) == (0, 4)


async def test_import_all_or_nothing_stores_nothing(client: Client, database_url: str) -> None:
    raw = b"camera_id,lat,lon,heading_deg,fov_deg,range_m\nA,10.77,106.70,10,60,50\nB,10.77,106.70,10,0,50\n"
    headers = {**signed(raw), "Content-Type": "text/csv"}
    response = await client.post("/v1/cameras/import?all_or_nothing=true", data=raw, headers=headers)
    assert response.status == 422
    body = await response.json()
    assert [r["index"] for r in body["rejected"]] == [3]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM cameras").fetchone() == (0,)
