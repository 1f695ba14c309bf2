"""The synthetic Ho Chi Minh City: deterministic, realistic in its mix, valid, and fast to make."""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
import shapely
from shapely.geometry import LineString, shape

from dispatch import demo_city
from dispatch.cameras.model import CameraIn
from dispatch.demo_map import CORE_DISTRICTS, WARDS, to_local


@pytest.fixture(scope="module")
def city() -> dict[str, Any]:
    return demo_city.generate()


@pytest.fixture(scope="module")
def props(city: dict[str, Any]) -> list[dict[str, Any]]:
    return [feature["properties"] for feature in city["features"]]


def test_same_arguments_same_city() -> None:
    assert demo_city.generate(3_000, seed=3) == demo_city.generate(3_000, seed=3)
    assert demo_city.generate(3_000, seed=3) != demo_city.generate(3_000, seed=4)
    assert demo_city.streets(3) == demo_city.streets(3)


@pytest.mark.parametrize("count", [0, 1, 10, 999])
def test_count(count: int) -> None:
    assert len(demo_city.generate(count)["features"]) == count


def test_default_city(city: dict[str, Any], props: list[dict[str, Any]]) -> None:
    assert city["type"] == "FeatureCollection"
    assert len(props) == 37_000
    connected = [p for p in props if p["connected"]]
    assert len(connected) == 2_500
    assert all(p["quality"] == "hd" and p["streams"] == {"path": p["camera_id"]} for p in connected)
    assert all(p["quality"] == "analog" and p["streams"] == {} for p in props if not p["connected"])
    assert 0.27 < sum(p["public"] for p in props) / len(props) < 0.33


def test_every_record_is_a_valid_camera(city: dict[str, Any]) -> None:
    for feature in city["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        camera = CameraIn.model_validate({**feature["properties"], "lat": lat, "lon": lon})
        assert camera.area and camera.camera_id == feature["id"]


def test_ids_are_unique_ascii_and_named_after_the_area(props: list[dict[str, Any]]) -> None:
    ids = [p["camera_id"] for p in props]
    assert len(set(ids)) == len(ids)
    codes = {ward.name: ward.code for ward in WARDS}
    for p in props:
        match = re.fullmatch(r"HCM-([A-Z]+)-(\d{5,})", p["camera_id"])
        assert match and match[1] == codes[p["area"]]
        assert p["name"].endswith(f" {int(match[2])}") and " / " in p["name"]


def test_most_cameras_are_in_the_former_inner_districts(props: list[dict[str, Any]]) -> None:
    core = sum(p["tags"].get("former_district") in CORE_DISTRICTS for p in props)
    assert core / len(props) > 0.6
    assert Counter(p["area"] for p in props).most_common(1)[0][1] < 0.1 * len(props)


def test_spread_to_about_30_km(city: dict[str, Any]) -> None:
    far = [math.hypot(*to_local(*f["geometry"]["coordinates"])) for f in city["features"]]
    assert max(far) < 60_000  # Can Gio is some 50 km out
    assert sum(d > 30_000 for d in far) < 0.01 * len(far)
    assert sum(d > 10_000 for d in far) > 0.02 * len(far)  # sparse outside, but there


def test_area_is_the_nearest_ward_centre(city: dict[str, Any]) -> None:
    for feature in city["features"][:2_000]:
        x, y = to_local(*feature["geometry"]["coordinates"])
        nearest = min(WARDS, key=lambda w: math.dist((x, y), to_local(w.lon, w.lat)))
        assert feature["properties"]["area"] == nearest.name


def test_the_mix_of_cameras(props: list[dict[str, Any]]) -> None:
    kinds = Counter(p["kind"] for p in props)
    assert 200 <= kinds["ptz"] <= 600 and 150 <= kinds["dome"] <= 500
    ptz = [p for p in props if p["kind"] == "ptz"]
    limited = [p for p in ptz if "pan_min_deg" in p]
    assert 0.3 < len(limited) / len(ptz) < 0.7
    assert any(p["pan_min_deg"] > p["pan_max_deg"] for p in limited)  # limits that wrap through north
    assert all(p["fov_deg"] == 360 for p in props if p["kind"] == "dome")
    assert all(40 <= p["fov_deg"] <= 110 for p in props if p["kind"] != "dome")
    assert all(30 <= p["range_m"] <= 150 and 4 <= p["height_m"] <= 12 for p in props)
    assert {p["tags"].get("former_district") for p in props} >= {"1", "3", "10", "Binh Thanh", "Go Vap"}


def test_cameras_stand_on_streets_and_look_along_them() -> None:
    city, streets = demo_city.generate(2_000, seed=5), demo_city.streets(5)
    lines = [LineString([to_local(*p) for p in f["geometry"]["coordinates"]]) for f in streets["features"]]
    tree = shapely.STRtree(lines)
    for feature in city["features"]:
        point = shapely.Point(to_local(*feature["geometry"]["coordinates"]))
        near = [lines[i] for i in tree.query(point, predicate="dwithin", distance=10.0)]
        assert near, feature["id"]
        if feature["properties"]["kind"] != "dome":
            off = [_angle_to(line, point, feature["properties"]["heading_deg"]) for line in near]
            assert min(off) < 30.0, feature["id"]


def _angle_to(line: LineString, point: shapely.Point, heading: float) -> float:
    """Degrees between a heading and the street next to a point, either way along it."""
    at = line.project(point)
    a, b = line.interpolate(max(at - 1.0, 0.0)), line.interpolate(min(at + 1.0, line.length))
    off = (heading - math.degrees(math.atan2(b.x - a.x, b.y - a.y))) % 180.0
    return min(off, 180.0 - off)


def test_streets_and_areas_are_geojson() -> None:
    streets, areas = demo_city.streets(), demo_city.areas()
    assert {f["geometry"]["type"] for f in streets["features"]} == {"LineString"}
    assert {f["properties"]["kind"] for f in streets["features"]} == {"street", "arterial"}
    assert [f["properties"]["name"] for f in areas["features"]] == [w.name for w in WARDS]
    for feature, ward in zip(areas["features"], WARDS, strict=True):
        outline = shape(feature["geometry"])
        assert outline.is_valid and outline.contains(shapely.Point(ward.lon, ward.lat))


def test_write(tmp_path: Path) -> None:
    path = tmp_path / "city.geojson"
    assert demo_city.write(path, cameras=500, seed=2) == 500
    assert orjson.loads(path.read_bytes()) == demo_city.generate(500, seed=2)


def test_generating_the_default_city_takes_under_3_s() -> None:
    start = time.perf_counter()
    demo_city.generate()
    assert time.perf_counter() - start < 3.0


@pytest.mark.slow
def test_a_million_cameras() -> None:
    features = demo_city.generate(1_000_000, seed=1)["features"]
    assert len(features) == 1_000_000
    assert len({f["id"] for f in features}) == 1_000_000
