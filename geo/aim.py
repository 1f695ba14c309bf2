"""Where a PTZ camera must turn to look at the caller: pan clamped to its limits, tilt down to the ground."""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo.camera import Camera, Kind


@dataclass(frozen=True, slots=True)
class Aim:
    """Pan (true bearing, degrees) and tilt (degrees, negative = down) for a PTZ camera."""

    pan_deg: float
    tilt_deg: float
    within_limits: bool


def clamp_bearing(bearing_deg: float, low_deg: float, high_deg: float, span_deg: float) -> tuple[float, bool]:
    """The bearing moved the short way onto the clockwise interval low..high; whether it was inside."""
    if (bearing_deg - low_deg) % 360.0 <= span_deg:
        return bearing_deg % 360.0, True
    turn_to_low = (low_deg - bearing_deg) % 360.0  # clockwise from the bearing up to the low limit
    turn_to_high = (bearing_deg - high_deg) % 360.0  # anticlockwise from the bearing back to the high limit
    return (low_deg if turn_to_low <= turn_to_high else high_deg) % 360.0, False


def tilt_deg(height_m: float, distance_m: float) -> float:
    """Tilt from the horizontal down to a point distance_m away on the ground; -90 straight below."""
    if distance_m <= 0.0:
        return -90.0
    return -math.degrees(math.atan(height_m / distance_m)) + 0.0  # + 0.0 turns -0.0 into 0.0


def aim(camera: Camera, bearing_deg: float, distance_m: float) -> Aim | None:
    """The aim of a PTZ camera at a target at this true bearing and ground distance; None for others."""
    if camera.kind is not Kind.PTZ:
        return None
    low, high, span = camera.pan_min_deg, camera.pan_max_deg, camera.pan_span_deg
    if low is None or high is None or span is None:
        pan, within = bearing_deg % 360.0, True
    else:
        pan, within = clamp_bearing(bearing_deg, low, high, span)
    return Aim(pan_deg=pan, tilt_deg=tilt_deg(camera.height_m, distance_m), within_limits=within)
