"""Sector polygons: shape, fineness of the arc, boxes, and the WGS 84 version."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from geo.camera import Camera, Kind
from geo.crs import Projector
from geo.sector import (
    TAU,
    Col,
    arc_segments,
    sector_boxes,
    sector_polygon,
    sector_polygon_wgs84,
    view_columns,
)
from tests.unit.geo.helpers import BASE_X, BASE_Y, camera_at


def _arc_angles(polygon_coords: np.ndarray, x: float, y: float) -> np.ndarray:
    return np.degrees(np.arctan2(polygon_coords[:, 0] - x, polygon_coords[:, 1] - y))


@settings(max_examples=40, deadline=None)
@given(st.floats(0, 360), st.floats(1, 359), st.floats(1, 1000))
def test_arcs_are_fine(heading: float, fov: float, reach: float) -> None:
    p = Projector()
    poly = sector_polygon(camera_at(p, 0, 0, heading_deg=heading, fov_deg=fov, range_m=reach), p)
    arc = np.asarray(poly.exterior.coords)[1:-1]
    steps = np.abs(np.diff(_arc_angles(arc, BASE_X, BASE_Y)))
    steps = np.minimum(steps, 360 - steps)
    assert steps.max() <= 1.0 + 1e-6
    sagitta = reach * (1 - math.cos(math.radians(steps.max()) / 2))
    assert sagitta <= 0.001 + 1e-6
    exact = math.pi * reach**2 * fov / 360
    assert poly.area == pytest.approx(exact, rel=1e-4)
    assert np.hypot(arc[:, 0] - BASE_X, arc[:, 1] - BASE_Y) == pytest.approx(reach, abs=1e-6)


def test_segments_scale_with_range() -> None:
    assert arc_segments(20.0, TAU) == 360  # 1-degree chords stay within 1 mm of arcs up to 26 m
    assert arc_segments(150.0, TAU) == math.ceil(TAU / (2 * math.acos(1 - 0.001 / 150)))
    assert arc_segments(0.0, math.pi) == 180


def test_sector_points_along_true_heading(projector: Projector) -> None:
    cam = camera_at(projector, 0, 0, heading_deg=90.0, fov_deg=2.0, range_m=100.0)
    centroid = sector_polygon(cam, projector).centroid
    grid = math.degrees(math.atan2(centroid.x - BASE_X, centroid.y - BASE_Y))
    assert grid == pytest.approx(90.0 - projector.convergence_deg(cam.lon, cam.lat), abs=1e-6)


@pytest.mark.parametrize("fields", [{"fov_deg": 360.0}, {"kind": Kind.DOME, "fov_deg": 60.0},
                                    {"kind": Kind.PTZ, "fov_deg": 60.0}])
def test_all_round_is_a_disk(projector: Projector, fields: dict[str, object]) -> None:
    poly = sector_polygon(camera_at(projector, 0, 0, range_m=80.0, **fields), projector)
    assert poly.area == pytest.approx(math.pi * 80**2, rel=1e-4)
    assert poly.contains(Point(BASE_X, BASE_Y))


def test_ptz_reach_wraps_through_north(projector: Projector) -> None:
    cam = camera_at(projector, 0, 0, kind=Kind.PTZ, fov_deg=40.0, pan_min_deg=300.0, pan_max_deg=60.0,
                    range_m=50)
    poly = sector_polygon(cam, projector)
    assert poly.area == pytest.approx(math.pi * 50**2 * (120 + 40) / 360, rel=1e-4)
    assert poly.contains(Point(BASE_X, BASE_Y + 40))  # north
    assert not poly.contains(Point(BASE_X, BASE_Y - 40))  # south


def test_pan_limits_0_to_360_are_a_full_turn(projector: Projector) -> None:
    cam = camera_at(projector, 0, 0, kind=Kind.PTZ, fov_deg=40.0, pan_min_deg=0.0, pan_max_deg=360.0)
    assert cam.all_round and cam.reach_deg == 360.0


def test_wgs84_polygon_is_the_metric_one_unprojected(projector: Projector) -> None:
    cam = camera_at(projector, 0, 0, heading_deg=10.0, fov_deg=70.0, range_m=120.0)
    metric = np.asarray(sector_polygon(cam, projector).exterior.coords)
    lonlat = np.asarray(sector_polygon_wgs84(cam, projector).exterior.coords)
    xs, ys = projector.to_metric_many(lonlat[:, 0], lonlat[:, 1])
    assert np.allclose(xs, metric[:, 0], atol=1e-6) and np.allclose(ys, metric[:, 1], atol=1e-6)
    assert lonlat[0] == pytest.approx((cam.lon, cam.lat), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 360), st.floats(0.5, 360), st.floats(1, 300), st.sampled_from(list(Kind)),
       st.one_of(st.none(), st.floats(0, 360)), st.one_of(st.none(), st.floats(0, 360)))
def test_boxes_hold_their_sectors(heading: float, fov: float, reach: float, kind: Kind,
                                  pan_min: float | None, pan_max: float | None) -> None:
    p = Projector()
    lon, lat = p.to_wgs84(BASE_X, BASE_Y)
    cam = Camera("c", lat, lon, heading_deg=heading, fov_deg=fov, range_m=reach, kind=kind,
                 pan_min_deg=pan_min, pan_max_deg=pan_max)
    mins, maxs = sector_boxes(view_columns([cam], p))
    minx, miny, maxx, maxy = sector_polygon(cam, p).bounds
    # The polygon's chords lie inside the arc: its box is inside the analytic box, and only just.
    assert mins[0, 0] <= minx + 1e-6 and mins[0, 1] <= miny + 1e-6
    assert maxs[0, 0] >= maxx - 1e-6 and maxs[0, 1] >= maxy - 1e-6
    assert mins[0, 0] >= minx - 0.002 and maxs[0, 1] <= maxy + 0.002


def test_polygons_run_counter_clockwise(projector: Projector) -> None:
    for fov in (30.0, 200.0, 360.0):
        cam = camera_at(projector, 0, 0, heading_deg=10.0, fov_deg=fov, range_m=40.0)
        assert sector_polygon(cam, projector).exterior.is_ccw
        assert sector_polygon_wgs84(cam, projector).exterior.is_ccw


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 360), st.floats(0.5, 360), st.sampled_from(list(Kind)),
                          st.one_of(st.none(), st.floats(0, 360)), st.one_of(st.none(), st.floats(0, 360))),
                min_size=1, max_size=20))
def test_bulk_reach_follows_the_camera_rules(
    specs: list[tuple[float, float, Kind, float | None, float | None]],
) -> None:
    p = Projector()
    lon, lat = p.to_wgs84(BASE_X, BASE_Y)
    cams = [Camera(f"c{i}", lat, lon, heading_deg=h, fov_deg=f, kind=k, pan_min_deg=lo, pan_max_deg=hi)
            for i, (h, f, k, lo, hi) in enumerate(specs)]
    table = view_columns(cams, p)
    for cam, row in zip(cams, table, strict=True):
        width = math.degrees(row[Col.WIDTH])
        if cam.all_round:
            assert width == pytest.approx(360.0)
        else:
            assert width == pytest.approx(cam.reach_deg, abs=1e-9)
            grid_start = (cam.reach_start_deg - row[Col.CONV]) % 360.0
            turn = (math.degrees(row[Col.START]) - grid_start + 180.0) % 360.0 - 180.0
            assert turn == pytest.approx(0.0, abs=1e-9)
