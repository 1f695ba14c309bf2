"""Caller regions: shapes, confidence normalisation, JSON form and bad input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import Projector
from geo.errors import GeoError
from geo.region import arcband, circle, ellipse, normalise, polygon, region_json
from tests.unit.geo.helpers import BASE_X, BASE_Y, lonlat

LON, LAT = 106.70, 10.77


def test_68_percent_of_20_m_is_about_32_4_m_at_95(projector: Projector) -> None:
    region = normalise(circle(projector, LAT, LON, 20.0, 0.68))
    assert region.radius_m == pytest.approx(32.4, abs=0.1)
    assert region.confidence == 0.95
    assert region.geometry.area == pytest.approx(math.pi * region.radius_m**2, rel=1e-3)


@settings(max_examples=40, deadline=None)
@given(st.floats(1.0, 500.0), st.floats(0.05, 0.99), st.floats(0.05, 0.99))
def test_normalise_round_trips(radius: float, confidence: float, target: float) -> None:
    p = Projector()
    there = normalise(circle(p, LAT, LON, radius, confidence), target)
    back = normalise(there, confidence)
    assert back.radius_m == pytest.approx(radius, rel=1e-9)


def test_ellipse_axes_scale_like_a_circle(projector: Projector) -> None:
    region = normalise(ellipse(projector, LAT, LON, 40.0, 10.0, 30.0, 0.68))
    assert (region.semi_major_m, region.semi_minor_m) == pytest.approx((64.85, 16.21), abs=0.01)
    assert region.orientation_deg == 30.0
    assert region.geometry.area == pytest.approx(math.pi * 64.85 * 16.21, rel=1e-3)


def test_polygons_are_used_as_given(projector: Projector) -> None:
    region = polygon(projector, [(10.77, 106.70), (10.771, 106.70), (10.771, 106.701)], 0.9)
    assert normalise(region) is region


@pytest.mark.parametrize("make", ["circle", "ellipse"])
def test_no_uncertainty_gets_the_minimum(projector: Projector, make: str) -> None:
    region = (
        circle(projector, LAT, LON, 0.0, 0.68)
        if make == "circle"
        else ellipse(projector, LAT, LON, 0.0, 0.0, 0.0, 0.68)
    )
    normal = normalise(region, 0.95, 10.0)
    assert (normal.kind, normal.radius_m, normal.confidence) == ("circle", 10.0, 0.95)


def test_ellipse_orientation_is_from_true_north(projector: Projector) -> None:
    region = ellipse(projector, LAT, LON, 100.0, 10.0, 90.0, 0.9)  # long axis east-west
    minx, _, maxx, _ = region.geometry.bounds
    assert maxx - minx == pytest.approx(200.0, abs=0.01)
    # Grid north is 0.32 degrees off true north: the east end sits 0.55 m north of the centre.
    east = max(region.geometry.exterior.coords, key=lambda xy: xy[0])
    assert east[1] - region.y == pytest.approx(100.0 * math.sin(math.radians(0.3178)), abs=0.01)


def test_ellipse_axes_given_the_wrong_way_round(projector: Projector) -> None:
    region = ellipse(projector, LAT, LON, 10.0, 50.0, 0.0, 0.9)
    assert (region.semi_major_m, region.semi_minor_m, region.orientation_deg) == (50.0, 10.0, 90.0)


def test_arcband_is_a_polygon_of_the_right_area(projector: Projector) -> None:
    region = arcband(projector, LAT, LON, 100.0, 300.0, 350.0, 40.0, 0.9)
    assert region.kind == "polygon"
    assert region.geometry.area == pytest.approx(math.pi * (300**2 - 100**2) * 40 / 360, rel=1e-4)
    # Centred on bearing 10 degrees (true), between 100 and 300 m out.
    x0, y0 = projector.to_metric(LON, LAT)
    bearing = math.degrees(math.atan2(region.x - x0, region.y - y0)) + projector.convergence_deg(LON, LAT)
    assert bearing == pytest.approx(10.0, abs=1e-6)


def test_full_arcband_is_a_ring(projector: Projector) -> None:
    region = arcband(projector, LAT, LON, 50.0, 80.0, 0.0, 360.0, 0.9)
    assert len(region.geometry.interiors) == 1
    assert region.geometry.area == pytest.approx(math.pi * (80**2 - 50**2), rel=1e-4)


def test_region_json_shapes(projector: Projector) -> None:
    c = region_json(normalise(circle(projector, LAT, LON, 20.0, 0.68)), projector)
    assert c == {"type": "circle", "lat": LAT, "lon": LON, "radius_m": 32.4, "confidence": 0.95}
    e = region_json(ellipse(projector, LAT, LON, 40.04, 10.0, 30.0, 0.68), projector)
    assert e == {
        "type": "ellipse",
        "lat": LAT,
        "lon": LON,
        "semi_major_m": 40.0,
        "semi_minor_m": 10.0,
        "orientation_deg": 30.0,
        "confidence": 0.68,
    }
    vertices = [(10.77, 106.70), (10.771, 106.70), (10.771, 106.701)]
    g = region_json(polygon(projector, vertices, 0.9), projector)
    ring = g["coordinates"]
    assert isinstance(ring, list)
    assert ring[0] == ring[-1]
    assert sorted(map(tuple, ring[:-1])) == sorted((lon, lat) for lat, lon in vertices)
    assert g["type"] == "polygon"


def test_polygon_centre_is_its_centroid(projector: Projector) -> None:
    corners = [lonlat(projector, dx, dy) for dx, dy in [(0, 0), (60, 0), (60, 30), (0, 30)]]
    region = polygon(projector, [(lat, lon) for lon, lat in corners], 0.9)
    assert (region.x, region.y) == pytest.approx((BASE_X + 30, BASE_Y + 15), abs=1e-6)
    assert region.inner_m == pytest.approx(15.0, abs=1e-6)
    assert region.outer_m == pytest.approx(math.hypot(30, 15), abs=1e-6)


@pytest.mark.parametrize(
    ("vertices", "reason"),
    [
        ([(10.77, 106.70), (10.771, 106.70)], "3 distinct"),
        ([(10.77, 106.70), (10.771, 106.70), (10.772, 106.70)], "area"),
        ([(10.77, 106.70), (10.771, 106.701), (10.771, 106.70), (10.77, 106.701)], "Self-intersection"),
        ([(10.77, 106.70), (10.771, 106.70), (95.0, 106.70)], "latitude"),
    ],
)
def test_bad_polygons(projector: Projector, vertices: list[tuple[float, float]], reason: str) -> None:
    with pytest.raises(GeoError, match=reason):
        polygon(projector, vertices, 0.9)


@pytest.mark.parametrize(
    ("radius", "confidence", "field"),
    [
        (-1.0, 0.68, "radius_m"),
        (math.nan, 0.68, "radius_m"),
        (math.inf, 0.68, "radius_m"),
        (10.0, 0.0, "confidence"),
        (10.0, 1.0, "confidence"),
        (10.0, math.nan, "confidence"),
        (10.0, 1e-300, "confidence"),
    ],
)
def test_bad_circles(projector: Projector, radius: float, confidence: float, field: str) -> None:
    with pytest.raises(GeoError) as err:
        circle(projector, LAT, LON, radius, confidence)
    assert err.value.field == field


def test_bad_ellipse_and_arcband(projector: Projector) -> None:
    with pytest.raises(GeoError, match="semi_minor_m"):
        ellipse(projector, LAT, LON, 10.0, 0.0, 0.0, 0.9)
    with pytest.raises(GeoError, match="orientation_deg"):
        ellipse(projector, LAT, LON, 10.0, 5.0, math.nan, 0.9)
    with pytest.raises(GeoError, match="outer_m"):
        arcband(projector, LAT, LON, 50.0, 50.0, 0.0, 90.0, 0.9)
    with pytest.raises(GeoError, match="opening_deg"):
        arcband(projector, LAT, LON, 0.0, 50.0, 0.0, 0.0, 0.9)
    with pytest.raises(GeoError, match="lat"):
        circle(projector, 100.0, LON, 5.0, 0.9)
    with pytest.raises(GeoError, match="confidence"):
        normalise(circle(projector, LAT, LON, 5.0, 0.9), target=1.5)
