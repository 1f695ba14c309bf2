"""CRS: projection round trips, meridian convergence, VN-2000 and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Proj, Transformer

from geo.crs import Projector, to_wgs84_from
from geo.errors import GeoError

NAIVE_TM3 = ("+proj=tmerc +lat_0=0 +lon_0=105.75 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs")


def test_srid_and_metric_crs(projector: Projector) -> None:
    assert projector.srid == 32648


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:99999999", "not a crs"])
def test_projector_needs_a_projected_crs_in_metres(crs: str) -> None:
    with pytest.raises(GeoError) as err:
        Projector(crs)
    assert err.value.field == "crs"


@settings(max_examples=50, deadline=None)
@given(st.floats(106.3, 107.1), st.floats(10.3, 11.2))
def test_round_trip(lon: float, lat: float) -> None:
    p = Projector()
    back = p.to_wgs84(*p.to_metric(lon, lat))
    assert back == pytest.approx((lon, lat), abs=1e-9)


def test_to_metric_many_matches_one_by_one(projector: Projector) -> None:
    lons, lats = np.array([106.6, 106.7, 106.8]), np.array([10.7, 10.8, 10.9])
    xs, ys = projector.to_metric_many(lons, lats)
    for lon, lat, x, y in zip(lons, lats, xs, ys, strict=True):
        assert projector.to_metric(lon, lat) == pytest.approx((x, y), abs=1e-6)


@pytest.mark.parametrize(
    ("lon", "lat", "field"),
    [(106.7, 91.0, "lat"), (181.0, 10.0, "lon"), (math.nan, 10.0, "lon"), (106.7, math.inf, "lat")],
)
def test_bad_positions_are_geo_errors(projector: Projector, lon: float, lat: float, field: str) -> None:
    with pytest.raises(GeoError) as err:
        projector.to_metric(lon, lat)
    assert err.value.field == field
    with pytest.raises(GeoError):
        projector.to_metric_many(np.array([106.7, lon]), np.array([10.7, lat]))


def test_convergence_near_ho_chi_minh_city(projector: Projector) -> None:
    conv = projector.convergence_deg(106.70, 10.77)
    assert 0.28 < conv < 0.35
    # Same sign and size as pyproj's own factor, computed a different way.
    assert conv == pytest.approx(Proj("EPSG:32648").get_factors(106.70, 10.77).meridian_convergence, abs=1e-5)


def test_convergence_turns_true_north_onto_grid(projector: Projector) -> None:
    x0, y0 = projector.to_metric(106.70, 10.77)
    x1, y1 = projector.to_metric(106.70, 10.7701)  # 11 m due true north
    grid_bearing = math.degrees(math.atan2(x1 - x0, y1 - y0))
    assert grid_bearing == pytest.approx(0.0 - projector.convergence_deg(106.70, 10.77), abs=1e-4)


def test_vn2000_round_trip_matches_pyproj() -> None:
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:9210", always_xy=True).transform(106.70, 10.77)
    lon, lat = to_wgs84_from("EPSG:9210", x, y)
    assert (lon, lat) == pytest.approx((106.70, 10.77), abs=1e-9)
    expected = Transformer.from_crs("EPSG:9210", "EPSG:4326", always_xy=True).transform(x, y)
    assert (lon, lat) == pytest.approx(expected, abs=1e-12)


def test_vn2000_datum_shift_is_hundreds_of_metres(projector: Projector) -> None:
    x, y = 603_700.0, 1_191_180.0  # VN-2000 / TM-3 105-45 near Ben Thanh
    true_x, true_y = projector.to_metric(*to_wgs84_from("EPSG:9210", x, y))
    naive = Transformer.from_crs(NAIVE_TM3, "EPSG:4326", always_xy=True).transform(x, y)
    naive_x, naive_y = projector.to_metric(*naive)
    assert 150.0 < abs(true_x - naive_x) < 250.0
    assert 80.0 < abs(true_y - naive_y) < 150.0


def test_transformers_are_cached() -> None:
    to_wgs84_from("EPSG:3405", 700_000.0, 1_190_000.0)
    from geo.crs import _to_wgs84_transformer

    before = _to_wgs84_transformer.cache_info().hits
    to_wgs84_from("EPSG:3405", 700_001.0, 1_190_000.0)
    assert _to_wgs84_transformer.cache_info().hits == before + 1


@pytest.mark.parametrize(
    ("crs", "x", "y", "field"),
    [("EPSG:0", 1.0, 1.0, "crs"), ("nonsense", 1.0, 1.0, "crs"), ("EPSG:9210", math.nan, 1.0, "x")],
)
def test_to_wgs84_from_bad_input(crs: str, x: float, y: float, field: str) -> None:
    with pytest.raises(GeoError) as err:
        to_wgs84_from(crs, x, y)
    assert err.value.field == field
