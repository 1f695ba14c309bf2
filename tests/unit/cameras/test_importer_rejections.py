"""Every rejection reason, with the index of the item and its camera id; valid neighbours still import."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.cameras.importer import parse_import
from tests.unit.cameras.helpers import collection, feature, parse_json

GOOD = {"camera_id": "GOOD-0"}


@pytest.mark.parametrize(
    ("props", "coords", "words"),
    [
        ({"camera_id": "X"}, [106.7, 95.0], "lat: Input should be less than or equal to 90 (got 95.0)"),
        ({"camera_id": "X"}, [200.0, 10.7], "lon: Input should be less than or equal to 180 (got 200.0)"),
        (
            {"camera_id": "X", "heading_deg": 400},
            None,
            "heading_deg: Input should be less than or equal to 360",
        ),
        (
            {"camera_id": "X", "heading_deg": -1},
            None,
            "heading_deg: Input should be greater than or equal to 0",
        ),
        ({"camera_id": "X", "fov_deg": 0}, None, "fov_deg: Input should be greater than 0 (got 0)"),
        ({"camera_id": "X", "fov_deg": 361}, None, "fov_deg: Input should be less than or equal to 360"),
        (
            {"camera_id": "X", "kind": "bullet"},
            None,
            "kind: Input should be 'fixed', 'ptz' or 'dome' (got 'bullet')",
        ),
        ({"camera_id": "X", "height_m": "tall"}, None, "height_m: Input should be a valid number"),
        ({"name": "no id"}, None, "camera_id: missing field"),
        ({"camera_id": "X", "heading": 90}, None, "heading: not a camera field"),
        ({"camera_id": "bad id!"}, None, "camera_id: String should match pattern"),
        ({"camera_id": "X", "tags": {"a": 1}}, None, "tags.a: Input should be a valid string"),
        ({"camera_id": "X", "quality": "4k"}, None, "quality: Input should be 'hd' or 'analog'"),
    ],
)
def test_field_errors_name_the_field(props: dict[str, Any], coords: list[float] | None, words: str) -> None:
    batch = parse_json(collection(feature(GOOD), feature(props, coords), feature({"camera_id": "GOOD-2"})))
    assert [index for index, _ in batch.cameras] == [0, 2]
    [rejection] = batch.rejected
    assert rejection.index == 1
    assert rejection.camera_id == props.get("camera_id")
    assert words in rejection.reason


def test_several_errors_of_one_item_are_all_listed() -> None:
    batch = parse_json(collection(feature({"camera_id": "X", "heading_deg": 400, "kind": "bullet"})))
    reason = batch.rejected[0].reason
    assert "heading_deg:" in reason and "kind:" in reason


def test_no_position_at_all() -> None:
    batch = parse_json(collection({"type": "Feature", "geometry": None, "properties": {"camera_id": "X"}}))
    assert batch.rejected[0].reason == "position: give lat and lon, or x, y and crs"


def test_repeated_id_rejects_the_second_occurrence() -> None:
    first, again = feature({"camera_id": "A", "name": "first"}), feature({"camera_id": "A", "name": "again"})
    batch = parse_json(collection(first, feature({"camera_id": "B"}), again))
    assert [(index, camera.name) for index, camera in batch.cameras if camera.camera_id == "A"] == [
        (0, "first")
    ]
    [rejection] = batch.rejected
    assert (rejection.index, rejection.camera_id) == (2, "A")
    assert rejection.reason == "camera_id: 'A' is repeated in the file (first at feature 0)"


def test_repeated_id_in_csv_names_the_first_line() -> None:
    batch = parse_import(b"camera_id,lat,lon\nA,10.7,106.7\nA,10.8,106.8\n", "text/csv")
    assert batch.rejected[0].index == 3
    assert "first at line 2" in batch.rejected[0].reason


def test_unknown_crs() -> None:
    props = {"camera_id": "X", "x": 603480.79, "y": 1191454.57, "crs": "EPSG:999999"}
    batch = parse_json(collection(feature(GOOD), {"type": "Feature", "geometry": None, "properties": props}))
    [rejection] = batch.rejected
    assert (rejection.index, rejection.camera_id) == (1, "X")
    assert rejection.reason.startswith("crs: ") and "EPSG:999999" in rejection.reason


def test_xy_far_outside_the_crs() -> None:
    props = {"camera_id": "X", "x": 1e30, "y": 1e30, "crs": "EPSG:9210"}
    batch = parse_json(collection({"type": "Feature", "geometry": None, "properties": props}))
    assert batch.rejected[0].camera_id == "X"
    assert batch.rejected[0].reason.startswith(("x: ", "y: ", "lat: ", "lon: "))


@pytest.mark.parametrize(
    ("geometry", "words"),
    [
        (
            {"type": "LineString", "coordinates": [[106.7, 10.7], [106.8, 10.8]]},
            "not a Point (got 'LineString')",
        ),
        ({"type": "Point", "coordinates": [106.7]}, "coordinates must be [lon, lat]"),
        ({"type": "Point", "coordinates": ["106.7", "10.7"]}, "coordinates must be [lon, lat]"),
        ({"type": "Point", "coordinates": [True, 10.7]}, "coordinates must be [lon, lat]"),
        ("POINT (106.7 10.7)", "not a GeoJSON geometry"),
    ],
)
def test_not_a_point(geometry: Any, words: str) -> None:
    bad = {"type": "Feature", "geometry": geometry, "properties": {"camera_id": "X"}}
    batch = parse_json(collection(feature(GOOD), bad))
    [rejection] = batch.rejected
    assert (rejection.index, rejection.camera_id) == (1, "X")
    assert words in rejection.reason


@pytest.mark.parametrize("item", [42, "feature", {"type": "Point"}, {"type": "Feature", "properties": [1]}])
def test_not_a_feature(item: Any) -> None:
    batch = parse_json(collection(feature(GOOD), item))
    assert batch.rejected[0].index == 1
    assert batch.rejected[0].camera_id is None


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("X,95,106.7,,,,", "lat: Input should be less than or equal to 90 (got '95')"),
        ("X,10.7,106.7,400,,,", "heading_deg: Input should be less than or equal to 360 (got '400')"),
        ("X,10.7,106.7,,0,,", "fov_deg: Input should be greater than 0"),
        ("X,10.7,106.7,,,bullet,", "kind: Input should be 'fixed', 'ptz' or 'dome'"),
        ("X,10.7,106.7,abc,,,", "heading_deg: Input should be a valid number, unable to parse string"),
        ("X,10.7,106.7,,,,perhaps", "connected: Input should be a valid boolean"),
        (",10.7,106.7,,,,", "camera_id: missing field"),
        ("X,,,,,,", "position: give lat and lon, or x, y and crs"),
    ],
)
def test_csv_rejections_carry_the_line_number(row: str, words: str) -> None:
    data = f"camera_id,lat,lon,heading_deg,fov_deg,kind,connected\nA,10.7,106.7,,,,\n{row}\n".encode()
    batch = parse_import(data, "text/csv")
    assert [index for index, _ in batch.cameras] == [2]
    [rejection] = batch.rejected
    assert rejection.index == 3
    assert words in rejection.reason


def test_unknown_crs_in_csv() -> None:
    batch = parse_import(b"camera_id,x,y,crs\nA,1,2,EPSG:0\n", "text/csv")
    assert (batch.rejected[0].index, batch.rejected[0].camera_id) == (2, "A")
    assert batch.rejected[0].reason.startswith("crs: ")
