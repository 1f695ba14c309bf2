"""PTZ aim: pan clamped the short way onto wrapped limits, tilt down to the caller."""

from __future__ import annotations

import pytest

from geo.aim import Aim, aim, clamp_bearing, tilt_deg
from geo.camera import Camera, Kind


@pytest.mark.parametrize(
    ("bearing", "low", "high", "expected"),
    [
        (10.0, 300.0, 60.0, (10.0, True)),  # limits 300..60, through north
        (300.0, 300.0, 60.0, (300.0, True)),
        (60.0, 300.0, 60.0, (60.0, True)),
        (90.0, 300.0, 60.0, (60.0, False)),  # nearer the high limit
        (250.0, 300.0, 60.0, (300.0, False)),  # nearer the low limit
        (180.0, 300.0, 60.0, (300.0, False)),  # 120 degrees from either limit: ties go to the low one
        (200.0, 90.0, 180.0, (180.0, False)),
        (45.0, 90.0, 180.0, (90.0, False)),
        (365.0, 0.0, 10.0, (5.0, True)),
    ],
)
def test_clamp_bearing(bearing: float, low: float, high: float, expected: tuple[float, bool]) -> None:
    assert clamp_bearing(bearing, low, high, (high - low) % 360.0) == pytest.approx(expected)


def test_tilt() -> None:
    assert tilt_deg(6.0, 0.0) == -90.0
    assert tilt_deg(10.0, 10.0) == pytest.approx(-45.0)
    assert tilt_deg(0.0, 25.0) == 0.0
    assert tilt_deg(6.0, 100.0) == pytest.approx(-3.43363, abs=1e-5)


def test_aim_only_for_ptz() -> None:
    fixed = Camera("f", 10.77, 106.7, heading_deg=0.0, fov_deg=60.0)
    assert aim(fixed, 30.0, 20.0) is None
    free = Camera("p", 10.77, 106.7, kind=Kind.PTZ, fov_deg=60.0, height_m=8.0)
    assert aim(free, 123.0, 8.0) == Aim(pan_deg=123.0, tilt_deg=pytest.approx(-45.0), within_limits=True)
    limited = Camera("q", 10.77, 106.7, kind=Kind.PTZ, fov_deg=60.0, pan_min_deg=300.0, pan_max_deg=60.0)
    result = aim(limited, 100.0, 30.0)
    assert result is not None and result.pan_deg == 60.0 and not result.within_limits
