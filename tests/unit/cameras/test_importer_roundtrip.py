"""A thousand records written as GeoJSON and as CSV come back exactly, field by field."""

from __future__ import annotations

import orjson
import pytest
from pyproj import Transformer

from dispatch import demo_city
from dispatch.cameras.csv_rows import write_csv
from dispatch.cameras.geojson import to_feature_collection
from dispatch.cameras.importer import parse_import
from dispatch.cameras.model import CameraIn, Streams


@pytest.fixture(scope="module")
def records() -> list[CameraIn]:
    """1,000 demo cameras, some given awkward names, source streams and VN-2000 coordinates as well."""
    to_vn2000 = Transformer.from_crs("EPSG:4326", "EPSG:9210", always_xy=True)
    cameras = []
    for i, feature in enumerate(demo_city.generate(1_000, seed=11)["features"]):
        lon, lat = feature["geometry"]["coordinates"]
        camera = CameraIn.model_validate({**feature["properties"], "lat": lat, "lon": lon})
        if i % 7 == 0:
            camera.name = 'Ngã tư "Bảy Hiền", 7;\nlối B'
        if i % 11 == 0:
            camera.streams = Streams(rtsp=f"rtsp://10.1.{i % 250}.2:554/Streaming/Channels/101", path=None)
        if i % 13 == 0:
            camera.x, camera.y = to_vn2000.transform(lon, lat)
            camera.crs = "EPSG:9210"
        if i % 17 == 0:
            camera.tags = {"vendor": "Hikvision", "note": 'góc, "ngã tư"'}
        cameras.append(camera)
    return cameras


def _assert_same(parsed: list[tuple[int, CameraIn]], records: list[CameraIn], indexes: list[int]) -> None:
    assert [index for index, _ in parsed] == indexes
    for (_, got), want in zip(parsed, records, strict=True):
        for name in CameraIn.model_fields:
            assert getattr(got, name) == getattr(want, name), (want.camera_id, name)


def test_geojson_round_trip(records: list[CameraIn]) -> None:
    batch = parse_import(orjson.dumps(to_feature_collection(records)), "application/geo+json")
    assert batch.rejected == []
    _assert_same(batch.cameras, records, list(range(len(records))))


def test_csv_round_trip(records: list[CameraIn]) -> None:
    batch = parse_import(write_csv(records).encode(), "text/csv")
    assert batch.rejected == []
    # Quoted names with a newline take two lines, so line numbers are not simply 2..1001.
    extra = [1 if "\n" in r.name else 0 for r in records]
    lines = [2 + i + sum(extra[:i]) for i in range(len(records))]
    _assert_same(batch.cameras, records, lines)


def test_the_records_cover_every_kind_of_field(records: list[CameraIn]) -> None:
    assert {r.kind for r in records} == {"fixed", "ptz", "dome"}
    assert any(r.pan_min_deg is not None for r in records)
    assert any(r.streams.rtsp for r in records) and any(r.streams.path for r in records)
    assert any(r.crs for r in records) and any(r.status == "offline" for r in records)
