"""The camera index: known answers, edge cases, ranking, and keeping its contents whole."""

from __future__ import annotations

import math

import pytest

from geo.camera import Camera, Kind
from geo.crs import Projector
from geo.errors import GeoError
from geo.index import CameraIndex, Match
from geo.region import arcband, circle, ellipse, normalise, polygon
from tests.unit.geo.helpers import BASE_X, BASE_Y, caller_at, camera_at, lonlat


@pytest.fixture
def east(projector: Projector) -> Camera:
    """A camera at the base point looking east (true), fov 90, range 100 m."""
    return camera_at(projector, 0, 0, "east", heading_deg=90.0, fov_deg=90.0, range_m=100.0)


def _index(projector: Projector, *cameras: Camera) -> CameraIndex:
    index = CameraIndex(projector)
    index.load(cameras)
    return index


def _ids(matches: list[Match]) -> list[str]:
    return [m.camera.camera_id for m in matches]


@pytest.mark.parametrize(("dx", "dy", "covered"), [(50, 0, True), (0, 50, False), (-50, 0, False)])
def test_east_facing_camera(projector: Projector, east: Camera, dx: float, dy: float, covered: bool) -> None:
    index = _index(projector, east)
    found = index.covering(caller_at(projector, dx, dy, 5.0))
    assert _ids(found) == (["east"] if covered else [])
    if covered:
        (m,) = found
        assert m.coverage == 1.0 and m.covers and m.aim is None
        assert m.distance_m == pytest.approx(50.0, abs=1e-6)
        assert m.bearing_deg == pytest.approx(90.0 + projector.convergence_deg(east.lon, east.lat), abs=1e-6)


def test_caller_at_the_camera(projector: Projector, east: Camera) -> None:
    index = _index(projector, east)
    (point,) = index.covering(caller_at(projector, 0, 0, 0.0))
    assert (point.distance_m, point.bearing_deg, point.coverage) == (0.0, 0.0, 1.0)
    (disk,) = index.covering(caller_at(projector, 0, 0, 20.0))
    assert disk.coverage == pytest.approx(0.25, abs=0.01)


def test_edges_and_range_are_inside(projector: Projector, east: Camera) -> None:
    index = _index(projector, east)
    conv = math.radians(projector.convergence_deg(east.lon, east.lat))
    for bearing in (45.0, 135.0):  # both edges, grid bearings corrected for convergence
        b = math.radians(bearing) - conv
        assert _ids(index.nearby(BASE_X + 60 * math.sin(b), BASE_Y + 60 * math.cos(b))) == ["east"]
        assert index.nearby(BASE_X + 60 * math.sin(b), BASE_Y + 60 * math.cos(b))[0].covers
    b = math.radians(90.0) - conv
    at_range = index.nearby(BASE_X + 100 * math.sin(b), BASE_Y + 100 * math.cos(b))
    beyond = index.nearby(BASE_X + 100.01 * math.sin(b), BASE_Y + 100.01 * math.cos(b))
    assert at_range[0].covers and not beyond[0].covers
    assert _ids(index.covering(caller_at(projector, 100.5, 0, 0.4))) == []
    assert _ids(index.covering(caller_at(projector, 100.5, 0, 0.6))) == ["east"]


def test_headings_wrap_across_north(projector: Projector) -> None:
    cam = camera_at(projector, 0, 0, "n", heading_deg=350.0, fov_deg=40.0, range_m=100.0)
    index = _index(projector, cam)
    for bearing, covered in ((5.0, True), (329.0, False), (331.0, True), (9.0, True), (11.0, False)):
        b = math.radians(bearing - projector.convergence_deg(cam.lon, cam.lat))
        found = index.nearby(BASE_X + 50 * math.sin(b), BASE_Y + 50 * math.cos(b))
        assert found[0].covers is covered, bearing


def test_full_circle_cameras(projector: Projector) -> None:
    index = _index(
        projector,
        camera_at(projector, 0, 0, "pano", fov_deg=360.0, range_m=40.0),
        camera_at(projector, 500, 0, "dome", kind=Kind.DOME, fov_deg=60.0, range_m=40.0),
    )
    assert _ids(index.covering(caller_at(projector, -30, -20, 1.0))) == ["pano"]
    assert _ids(index.covering(caller_at(projector, 470, 20, 1.0))) == ["dome"]
    (m,) = index.covering(caller_at(projector, 0, 0, 20.0))
    assert m.coverage == 1.0


def test_huge_and_far_away_regions(projector: Projector, east: Camera) -> None:
    index = _index(projector, east)
    (m,) = index.covering(caller_at(projector, 0, 0, 50_000.0))
    assert m.coverage == pytest.approx(math.pi * 100**2 / 4 / (math.pi * 50_000**2), abs=1e-6)
    assert index.match(circle(projector, 21.03, 105.85, 100.0, 0.9)) == []  # Hanoi
    assert index.nearby(BASE_X + 600, BASE_Y) == []
    assert _ids(index.nearby(BASE_X + 600, BASE_Y, within_m=601)) == ["east"]


def test_ptz_reach_and_aim(projector: Projector) -> None:
    ptz = camera_at(
        projector,
        0,
        0,
        "ptz",
        kind=Kind.PTZ,
        fov_deg=40.0,
        range_m=80.0,
        height_m=10.0,
        pan_min_deg=300.0,
        pan_max_deg=60.0,
    )
    index = _index(projector, ptz)
    conv = projector.convergence_deg(ptz.lon, ptz.lat)
    north = index.covering(caller_at(projector, 0, 10, 0.0))[0]
    assert north.aim is not None
    assert north.aim.pan_deg == pytest.approx(conv, abs=1e-6) and north.aim.within_limits
    assert north.aim.tilt_deg == pytest.approx(-45.0)
    b = math.radians(70.0 - conv)  # inside the reach (60 + 40/2) but past the pan limit
    edge = index.nearby(BASE_X + 30 * math.sin(b), BASE_Y + 30 * math.cos(b))[0]
    assert edge.covers and edge.aim is not None and edge.aim.pan_deg == 60.0 and not edge.aim.within_limits
    assert index.nearby(BASE_X, BASE_Y - 30)[0].covers is False  # south is out of reach
    assert index.nearby(BASE_X, BASE_Y - 30)[0].aim is None


def test_ptz_without_limits_sees_all_round(projector: Projector) -> None:
    index = _index(projector, camera_at(projector, 0, 0, "ptz", kind=Kind.PTZ, fov_deg=40.0, range_m=80.0))
    (m,) = index.covering(caller_at(projector, 0, -50, 0.0))
    assert m.aim is not None and m.aim.pan_deg == pytest.approx(180.0, abs=0.5) and m.aim.within_limits


def test_ellipse_and_polygon_regions_use_their_shape(projector: Projector, east: Camera) -> None:
    index = _index(projector, east)
    lon, lat = lonlat(projector, -60, 0)
    # A long thin ellipse behind the camera reaches into the sector; its bounding circle would too,
    # but a north-south one of the same size does not.
    assert _ids(index.covering(ellipse(projector, lat, lon, 80.0, 5.0, 90.0, 0.9))) == ["east"]
    assert _ids(index.covering(ellipse(projector, lat, lon, 80.0, 5.0, 0.0, 0.9))) == []
    corners = [lonlat(projector, dx, dy) for dx, dy in [(20, -5), (40, -5), (40, 5), (20, 5)]]
    (m,) = index.covering(polygon(projector, [(la, lo) for lo, la in corners], 0.9))
    assert m.coverage == pytest.approx(1.0, abs=1e-9)
    # An L whose bar passes 6 m beyond the sector's corner: near enough for the bounding circle only.
    corners = [(-50, 75), (150, 75), (150, 85), (-40, 85), (-40, 200), (-50, 200)]
    l_shape = [lonlat(projector, dx, dy) for dx, dy in corners]
    assert _ids(index.covering(polygon(projector, [(la, lo) for lo, la in l_shape], 0.9))) == []


def test_a_camera_in_the_hole_of_a_ring_does_not_cover_it(projector: Projector) -> None:
    index = _index(
        projector,
        camera_at(projector, 0, 0, "hole", fov_deg=360.0, range_m=40.0),
        camera_at(projector, 60, 0, "ring", fov_deg=360.0, range_m=5.0),
    )
    lon, lat = lonlat(projector, 0, 0)
    ring = arcband(projector, lat, lon, 50.0, 80.0, 0.0, 360.0, 0.9)
    (m,) = index.covering(ring)
    assert m.camera.camera_id == "ring"
    assert m.coverage == pytest.approx(math.pi * 25 / (math.pi * (80**2 - 50**2)), rel=1e-3)


def test_match_ranks_covering_online_first(projector: Projector) -> None:
    view = {"fov_deg": 60.0, "range_m": 100.0}
    cams = [
        camera_at(projector, -20, 0, "cover-far", heading_deg=90.0, **view),
        camera_at(projector, -10, 0, "cover-near", heading_deg=90.0, **view),
        camera_at(projector, -15, 0, "cover-off", heading_deg=90.0, online=False, **view),
        camera_at(projector, -5, 0, "cover-part", heading_deg=80.0, fov_deg=10.0, range_m=100.0),
        camera_at(projector, 20, 0, "near-on", heading_deg=90.0, **view),
        camera_at(projector, 9, 0, "near-off", heading_deg=90.0, online=False, **view),
        camera_at(projector, 900, 0, "far", heading_deg=270.0, **view),
    ]
    index = _index(projector, *cams)
    region = caller_at(projector, 0, 0, 3.0)
    matches = index.match(region)
    assert _ids(matches) == ["cover-near", "cover-far", "cover-part", "cover-off", "near-on", "near-off"]
    assert [m.covers for m in matches] == [True] * 4 + [False] * 2
    assert _ids(index.match(region, limit=2)) == ["cover-near", "cover-far"]
    assert _ids(index.match(region, k=0)) == ["cover-near", "cover-far", "cover-part", "cover-off"]
    assert _ids(index.nearby(BASE_X, BASE_Y, k=3)) == ["cover-part", "near-off", "cover-near"]


def test_nearby_ties_go_to_the_smaller_id(projector: Projector) -> None:
    spots = [(10, 0), (0, 10), (-10, 0), (0, -10)]
    cams = [camera_at(projector, dx, dy, f"c{i}") for i, (dx, dy) in enumerate(spots)]
    index = _index(projector, *reversed(cams))
    assert _ids(index.nearby(BASE_X, BASE_Y, k=2)) == ["c0", "c1"]


def test_nearest_far_beyond_the_first_search(projector: Projector) -> None:
    # The first square searched for the nearest spans a few hundred metres: sparse places search wider,
    # out to the whole index when within_m allows, including cameras added after the load.
    index = _index(
        projector, camera_at(projector, 3_000, 0, "east-3km"), camera_at(projector, 0, -5_000, "south-5km")
    )
    assert _ids(index.nearby(BASE_X, BASE_Y, k=1, within_m=1e6)) == ["east-3km"]
    assert _ids(index.nearby(BASE_X, BASE_Y, k=5, within_m=1e6)) == ["east-3km", "south-5km"]
    assert _ids(index.nearby(BASE_X, BASE_Y, k=5, within_m=4_000.0)) == ["east-3km"]
    index.upsert(camera_at(projector, -40_000, 0, "west-40km"))
    assert _ids(index.nearby(BASE_X, BASE_Y, k=5, within_m=1e6)) == ["east-3km", "south-5km", "west-40km"]
    assert _ids(index.match(caller_at(projector, 0, 0, 20.0), k=2, within_m=1e6)) == ["east-3km", "south-5km"]
    assert CameraIndex(projector).nearby(BASE_X, BASE_Y, k=5, within_m=1e6) == []


def test_upsert_remove_get(projector: Projector, east: Camera) -> None:
    index = CameraIndex(projector)
    assert len(index) == 0 and index.get("east") is None and not index.remove("east")
    index.upsert(east)
    region = caller_at(projector, 50, 0, 1.0)
    assert len(index) == 1 and index.get("east") == east and _ids(index.covering(region)) == ["east"]
    turned = camera_at(projector, 0, 0, "east", heading_deg=0.0, fov_deg=90.0, range_m=100.0)
    index.upsert(turned)
    assert len(index) == 1 and index.get("east") == turned and index.covering(region) == []
    offline = camera_at(projector, 0, 0, "east", heading_deg=0.0, fov_deg=90.0, range_m=100.0, online=False)
    index.upsert(offline)  # a status change only
    assert index.get("east") == offline and not index.nearby(BASE_X, BASE_Y)[0].camera.online
    assert index.remove("east") and len(index) == 0 and index.nearby(BASE_X, BASE_Y) == []
    for i in range(40):  # slots are reused and arrays grow
        index.upsert(camera_at(projector, i, 0, f"c{i}", fov_deg=360.0, range_m=5.0))
        if i % 3 == 0:
            index.remove(f"c{i // 2}")
    assert len(index) == 40 - len(range(0, 40, 3))
    assert {m.camera.camera_id for m in index.nearby(BASE_X, BASE_Y, k=100)} == {
        f"c{i}" for i in range(40)
    } - {f"c{i // 2}" for i in range(0, 40, 3)}


def test_load_replaces_and_last_duplicate_wins(projector: Projector, east: Camera) -> None:
    index = _index(projector, east)
    first = camera_at(projector, 0, 0, "dup", fov_deg=360.0, range_m=10.0)
    second = camera_at(projector, 300, 0, "dup", fov_deg=360.0, range_m=10.0)
    index.load([first, second])
    assert len(index) == 1 and index.get("east") is None and index.get("dup") == second


def test_bad_input_changes_nothing(projector: Projector, east: Camera) -> None:
    index = _index(projector, east)
    far = Camera("far", 89.99, 179.9, fov_deg=360.0)  # projects, but shows the load path is all or nothing
    bad = Camera.__new__(Camera)
    object.__setattr__(bad, "camera_id", "bad")
    for name in ("lat", "lon", "heading_deg", "fov_deg", "range_m", "height_m"):
        object.__setattr__(bad, name, math.nan)
    for name, value in (
        ("kind", Kind.FIXED),
        ("pan_min_deg", None),
        ("pan_max_deg", None),
        ("quality", "hd"),
        ("connected", True),
        ("online", True),
    ):
        object.__setattr__(bad, name, value)
    with pytest.raises(GeoError):
        index.upsert(bad)
    with pytest.raises(GeoError):
        index.load([far, bad])
    assert len(index) == 1 and index.get("east") == east and index.get("far") is None
    with pytest.raises(GeoError):
        index.nearby(math.nan, 0.0)
    with pytest.raises(GeoError):
        index.match(caller_at(projector, 0, 0, 1.0), k=-1)
    with pytest.raises(GeoError):
        index.match(caller_at(projector, 0, 0, 1.0), within_m=-5.0)


def test_camera_rejects_bad_fields() -> None:
    with pytest.raises(GeoError, match="fov_deg"):
        Camera("x", 10.7, 106.7, fov_deg=0.0)
    with pytest.raises(GeoError, match="lat"):
        Camera("x", math.nan, 106.7)


def test_normalised_regions_match_like_the_service(projector: Projector, east: Camera) -> None:
    index = _index(projector, east)
    lon, lat = lonlat(projector, 130, 0)
    raw = circle(projector, lat, lon, 20.0, 0.68)  # 30 m past the range: only the 95% circle reaches
    assert index.covering(raw) == []
    assert _ids(index.covering(normalise(raw))) == ["east"]
