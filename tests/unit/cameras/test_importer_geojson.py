"""GeoJSON imports with our own properties, format sniffing and whole-file errors."""

from __future__ import annotations

import pytest
from pyproj import Transformer

from dispatch.cameras.importer import ImportFormatError, KindDefaults, TypeDefaults, parse_import
from tests.unit.cameras.helpers import PAYLOADS, by_id, collection, feature, parse_json


def test_sample_file_gives_every_camera_with_its_fields() -> None:
    batch = parse_import((PAYLOADS / "registry.geojson").read_bytes(), "application/geo+json")
    assert batch.rejected == []
    assert [index for index, _ in batch.cameras] == [0, 1, 2, 3]
    saigon = by_id(batch)["HCM-SAIGON-00042"]
    assert (saigon.lat, saigon.lon) == (10.77719, 106.70109)
    assert (saigon.heading_deg, saigon.fov_deg, saigon.range_m, saigon.height_m) == (212.5, 80, 90, 7.5)
    assert saigon.streams.rtsp == "rtsp://10.20.0.42/stream1"
    assert saigon.streams.path == "HCM-SAIGON-00042"
    assert saigon.quality == "hd" and saigon.connected and saigon.public
    assert saigon.tags == {"former_district": "1"}
    ptz = by_id(batch)["HCM-TANDINH-00003"]
    assert (ptz.kind, ptz.pan_min_deg, ptz.pan_max_deg) == ("ptz", 300, 60)
    assert ptz.owner == ""  # null means not given


def test_missing_fov_and_range_come_from_the_type_defaults() -> None:
    batch = parse_import((PAYLOADS / "registry.geojson").read_bytes(), "application/geo+json")
    ptz, dome = by_id(batch)["HCM-TANDINH-00003"], by_id(batch)["HCM-BANCO-00001"]
    assert (ptz.fov_deg, ptz.range_m) == (60, 120)
    assert (dome.fov_deg, dome.range_m) == (360, 40)


def test_type_defaults_are_configurable() -> None:
    defaults = TypeDefaults(fixed=KindDefaults(fov_deg=50, range_m=75))
    batch = parse_import(
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", '
        b'"coordinates": [106.7, 10.77]}, "properties": {"camera_id": "A"}}]}',
        "application/json",
        defaults,
    )
    camera = by_id(batch)["A"]
    assert (camera.fov_deg, camera.range_m) == (50, 75)


def test_vn2000_xy_is_converted_to_wgs84_as_pyproj_does() -> None:
    to_vn2000 = Transformer.from_crs("EPSG:4326", "EPSG:9210", always_xy=True)
    back = Transformer.from_crs("EPSG:9210", "EPSG:4326", always_xy=True)
    x, y = to_vn2000.transform(106.7009, 10.7769)
    props = {"camera_id": "VN", "x": x, "y": y, "crs": "EPSG:9210"}
    batch = parse_json(collection({"type": "Feature", "geometry": None, "properties": props}))
    camera = by_id(batch)["VN"]
    lon, lat = back.transform(x, y)
    assert camera.lat == pytest.approx(lat, abs=1e-7)
    assert camera.lon == pytest.approx(lon, abs=1e-7)
    assert camera.lat == pytest.approx(10.7769, abs=1e-6)  # and it is really where we started
    assert (camera.x, camera.y, camera.crs) == (x, y, "EPSG:9210")


def test_the_sample_vn2000_camera_lands_at_ben_thanh() -> None:
    batch = parse_import((PAYLOADS / "registry.geojson").read_bytes(), "")
    camera = by_id(batch)["HCM-BENTHANH-00007"]
    assert camera.lat == pytest.approx(10.7725, abs=1e-7)
    assert camera.lon == pytest.approx(106.6980, abs=1e-7)


def test_geometry_wins_over_lat_lon_properties() -> None:
    batch = parse_json(collection(feature({"camera_id": "A", "lat": 1.0, "lon": 2.0}, [106.7, 10.8])))
    camera = by_id(batch)["A"]
    assert (camera.lon, camera.lat) == (106.7, 10.8)


def test_lat_lon_properties_serve_when_there_is_no_geometry() -> None:
    props = {"camera_id": "A", "lat": 10.8, "lon": 106.7}
    batch = parse_json(collection({"type": "Feature", "geometry": None, "properties": props}))
    assert (by_id(batch)["A"].lat, by_id(batch)["A"].lon) == (10.8, 106.7)


def test_a_single_feature_is_a_collection_of_one() -> None:
    batch = parse_json(feature({"camera_id": "A"}))
    assert [index for index, _ in batch.cameras] == [0]


def test_point_with_elevation_is_accepted_and_integers_are_numbers() -> None:
    batch = parse_json(collection(feature({"camera_id": "A"}, [106, 10, 12.5])))
    assert (by_id(batch)["A"].lon, by_id(batch)["A"].lat) == (106, 10)


@pytest.mark.parametrize("content_type", ["", "application/octet-stream", "text/plain; charset=utf-8"])
def test_json_is_sniffed_when_the_type_does_not_say(content_type: str) -> None:
    data = b'\xef\xbb\xbf\n {"type": "FeatureCollection", "features": []}'
    assert parse_import(data, content_type).cameras == []


@pytest.mark.parametrize(
    ("data", "content_type", "words"),
    [
        (b"", "application/json", "empty"),
        (b"   \n", "", "empty"),
        (b'{"type": "FeatureCollection", "features": [', "application/json", "not valid JSON"),
        (b"camera_id,lat\nA,1", "application/geo+json", "not valid JSON"),
        (b"\xff\xfe{\x00}\x00", "application/json", "not valid JSON"),
        (b'["a"]', "", "FeatureCollection"),
        (b'{"type": "Topology"}', "", "FeatureCollection"),
        (b'{"type": "FeatureCollection", "features": {}}', "", "features"),
    ],
)
def test_unreadable_files_raise_one_error(data: bytes, content_type: str, words: str) -> None:
    with pytest.raises(ImportFormatError, match=words):
        parse_import(data, content_type)


def test_empty_collection_is_an_empty_batch() -> None:
    batch = parse_json(collection())
    assert (batch.cameras, batch.rejected) == ([], [])
