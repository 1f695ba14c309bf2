"""OpenStreetMap man_made=surveillance tags (GeoJSON exports and Overpass JSON) as registry records."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.cameras.errors import ItemError
from dispatch.cameras.importer import parse_import
from dispatch.cameras.osm import parse_direction, parse_height
from tests.unit.cameras.helpers import PAYLOADS, by_id, collection, feature, only_rejection, parse_json


def osm(tags: dict[str, Any]) -> dict[str, Any]:
    """A surveillance node feature with these tags on top of the usual ones."""
    return feature({"@id": "node/1", "man_made": "surveillance", "surveillance:type": "camera", **tags})


def test_export_sample() -> None:
    batch = parse_import((PAYLOADS / "osm_export.geojson").read_bytes(), "application/geo+json")
    cameras = by_id(batch)
    assert sorted(cameras) == [
        "BT-DOME-17",
        "osm-node-4411223301-1",
        "osm-node-4411223301-2",
        "osm-node-4411223302",
        "osm-node-4411223304",
    ]
    assert [(r.index, r.camera_id) for r in batch.rejected] == [
        (4, "osm-node-4411223305"),
        (5, "osm-node-4411223306"),
    ]


def test_two_directions_are_two_cameras_with_suffixed_ids() -> None:
    batch = parse_import((PAYLOADS / "osm_export.geojson").read_bytes(), "")
    first, second = by_id(batch)["osm-node-4411223301-1"], by_id(batch)["osm-node-4411223301-2"]
    assert (first.heading_deg, second.heading_deg) == (225, 45)
    assert [i for i, c in batch.cameras if c.camera_id.startswith("osm-node-4411223301")] == [0, 0]
    assert first.height_m == second.height_m == 6
    assert (first.lon, first.lat) == (106.6985, 10.7731)
    assert first.name == "traffic"  # no name: the surveillance zone
    assert first.owner == "So Giao thong Van tai TP.HCM"
    assert first.tags["camera:mount"] == "pole" and first.tags["direction"] == "SW;NE"
    assert first.public


def test_camera_angle_is_tilt_and_not_the_field_of_view() -> None:
    batch = parse_import((PAYLOADS / "osm_export.geojson").read_bytes(), "")
    fixed = by_id(batch)["osm-node-4411223304"]
    assert fixed.fov_deg == 70  # the fixed-camera default, not camera:angle=30
    assert fixed.tags["camera:angle"] == "30"
    assert fixed.heading_deg == 22.5  # NNE


def test_panning_is_ptz_with_the_ptz_defaults() -> None:
    batch = parse_import((PAYLOADS / "osm_export.geojson").read_bytes(), "")
    ptz = by_id(batch)["osm-node-4411223302"]
    assert (ptz.kind, ptz.heading_deg, ptz.fov_deg, ptz.range_m) == ("ptz", 90, 60, 120)
    assert ptz.name == "Nga sau Phu Dong"
    assert (ptz.pan_min_deg, ptz.pan_max_deg) == (None, None)


def test_dome_takes_ref_as_id_and_drops_metadata_but_keeps_at_id() -> None:
    batch = parse_import((PAYLOADS / "osm_export.geojson").read_bytes(), "")
    dome = by_id(batch)["BT-DOME-17"]
    assert (dome.kind, dome.fov_deg, dome.range_m, dome.height_m) == ("dome", 360, 40, 4)
    assert dome.tags["@id"] == "node/4411223303"
    assert "@version" not in dome.tags and "@user" not in dome.tags


def test_overpass_json_elements() -> None:
    batch = parse_import((PAYLOADS / "overpass.json").read_bytes(), "application/json")
    assert [(i, c.camera_id) for i, c in batch.cameras] == [(0, "osm-node-9001"), (2, "osm-way-77")]
    assert by_id(batch)["osm-way-77"].lat == 10.774  # a way's centre
    assert batch.rejected == []  # the untagged node is geometry, not a camera


def test_nested_tags_of_osmtogeojson() -> None:
    props = {"type": "node", "id": 55, "tags": {"man_made": "surveillance", "direction": "W"}}
    batch = parse_json(collection(feature(props)))
    camera = by_id(batch)["osm-node-55"]
    assert camera.heading_deg == 270
    assert camera.tags == {"man_made": "surveillance", "direction": "W"}


@pytest.mark.parametrize(
    ("tags", "ids"),
    [
        ({"@id": "node/7"}, ["osm-node-7"]),
        ({"@id": None, "id": "node/8"}, ["osm-node-8"]),
        ({"@id": None, "id": 9}, ["osm-node-9"]),
        ({"ref": "CAM 12/a"}, ["CAM-12-a"]),
        ({"direction": "0;120;240"}, ["osm-node-1-1", "osm-node-1-2", "osm-node-1-3"]),
    ],
)
def test_camera_ids(tags: dict[str, Any], ids: list[str]) -> None:
    batch = parse_json(collection(osm({"direction": "N", **tags})))
    assert [camera.camera_id for _, camera in batch.cameras] == ids


def test_camera_direction_is_preferred_over_direction() -> None:
    batch = parse_json(collection(osm({"camera:direction": "E", "direction": "W"})))
    assert by_id(batch)["osm-node-1"].heading_deg == 90


def test_a_range_gives_heading_and_fov() -> None:
    batch = parse_json(collection(osm({"direction": "300-60"})))
    camera = by_id(batch)["osm-node-1"]
    assert (camera.heading_deg, camera.fov_deg) == (0, 120)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("N", (0.0, None)),
        ("nnw", (337.5, None)),
        ("SW", (225.0, None)),
        ("ESE", (112.5, None)),
        ("90", (90.0, None)),
        (" 12.5 ", (12.5, None)),
        ("360", (360.0, None)),
        ("90°", (90.0, None)),
        ("0-90", (45.0, 90.0)),
        ("NW-NE", (0.0, 90.0)),
    ],
)
def test_parse_direction(text: str, expected: tuple[float, float | None]) -> None:
    assert parse_direction(text) == expected


@pytest.mark.parametrize("text", ["up", "400", "-45", "", "N-", "north east"])
def test_bad_direction(text: str) -> None:
    with pytest.raises(ItemError, match="direction"):
        parse_direction(text)


@pytest.mark.parametrize(
    ("text", "metres"), [("6", 6.0), ("6 m", 6.0), ("6m", 6.0), ("6,5", 6.5), ("20 ft", 6.1)]
)
def test_parse_height(text: str, metres: float) -> None:
    assert parse_height(text) == metres


@pytest.mark.parametrize(
    ("tags", "words"),
    [
        ({"direction": "up"}, "direction: 'up' is neither degrees"),
        ({"direction": None}, "direction: missing field"),
        ({"direction": "N", "camera:type": "bullet"}, "camera:type: unknown kind 'bullet'"),
        ({"direction": "N", "height": "tall"}, "height: 'tall' is not a number"),
        ({"direction": "N", "surveillance:type": "guard"}, "surveillance:type: 'guard' is not a camera"),
        ({"direction": "N", "man_made": "tower"}, "man_made: 'tower' is not surveillance"),
        ({"direction": "N", "@id": None}, "camera_id: missing field"),
    ],
)
def test_bad_tags_are_rejected_naming_the_tag(tags: dict[str, Any], words: str) -> None:
    rejection = only_rejection(parse_json(collection(osm(tags))))
    assert rejection.index == 0
    assert words in rejection.reason


def test_an_osm_camera_needs_a_point() -> None:
    line = {"type": "LineString", "coordinates": [[106.7, 10.7], [106.71, 10.71]]}
    props = {"@id": "way/3", "man_made": "surveillance", "direction": "N"}
    rejection = only_rejection(
        parse_json(collection({"type": "Feature", "geometry": line, "properties": props}))
    )
    assert rejection.camera_id == "osm-way-3"
    assert "not a Point" in rejection.reason


def test_dome_and_ptz_need_no_direction() -> None:
    batch = parse_json(collection(osm({"camera:type": "dome"})))
    assert by_id(batch)["osm-node-1"].heading_deg == 0
