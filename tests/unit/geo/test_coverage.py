"""Coverage: the share of a caller's region a camera sees, against exact shapely areas."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import Projector
from geo.index import CameraIndex
from tests.unit.geo import oracle
from tests.unit.geo.helpers import BASE_X, BASE_Y, caller_at, camera_at

PROJECTOR = Projector()


def _one(**fields: object) -> CameraIndex:
    index = CameraIndex(PROJECTOR)
    index.load([camera_at(PROJECTOR, 0, 0, "c", **fields)])
    return index


@settings(parent=settings.get_profile("geo"), max_examples=120)
@given(st.floats(0, 360), st.one_of(st.floats(1, 359), st.just(360.0)), st.floats(5, 150),
       st.floats(0.5, 600), st.floats(0, 1), st.floats(0, 360))
def test_disk_coverage_is_within_two_percent(heading: float, fov: float, reach: float, r: float, far: float,
                                             bearing: float) -> None:
    index = _one(heading_deg=heading, fov_deg=fov, range_m=reach)
    d = far * (reach + r)
    dx, dy = d * math.sin(math.radians(bearing)), d * math.cos(math.radians(bearing))
    found = index.covering(caller_at(PROJECTOR, dx, dy, r))
    camera = index.get("c")
    assert camera is not None
    verdict = oracle.judge(camera, oracle.disk(BASE_X + dx, BASE_Y + dy, r), BASE_X + dx, BASE_Y + dy)
    if not verdict.sure:
        return
    assert bool(found) == verdict.covers
    if found:
        assert found[0].coverage == pytest.approx(verdict.coverage, abs=0.02)


def test_a_disk_inside_the_view_is_exactly_covered() -> None:
    index = _one(heading_deg=45.0, fov_deg=60.0, range_m=150.0)
    (m,) = index.covering(caller_at(PROJECTOR, 60, 60, 10.0))
    assert m.coverage == 1.0


def test_a_view_inside_the_disk_is_its_area_share() -> None:
    index = _one(heading_deg=45.0, fov_deg=60.0, range_m=50.0)
    (m,) = index.covering(caller_at(PROJECTOR, 10, -5, 200.0))
    assert m.coverage == pytest.approx((60 / 360) * 50**2 / 200**2, rel=1e-9)


def test_half_a_disk_on_the_wedge_edge() -> None:
    # A camera looking east with fov 180 sees the half-plane east of it: a disk centred due north of it,
    # inside its range, is cut in half.
    index = _one(heading_deg=90.0 + PROJECTOR.convergence_deg(*PROJECTOR.to_wgs84(BASE_X, BASE_Y)),
                 fov_deg=180.0, range_m=150.0)
    (m,) = index.covering(caller_at(PROJECTOR, 0, 60, 20.0))
    assert m.coverage == pytest.approx(0.5, abs=0.01)
