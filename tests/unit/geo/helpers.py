"""Placing cameras and callers by metric offsets from a known UTM 48N point in central Ho Chi Minh City."""

from __future__ import annotations

from typing import Any

from geo.camera import Camera
from geo.crs import Projector
from geo.region import Region, circle

BASE_X, BASE_Y = 686_000.0, 1_191_000.0  # about 10.77 N, 106.70 E


def lonlat(p: Projector, dx: float, dy: float) -> tuple[float, float]:
    """WGS 84 (lon, lat) of the point dx east, dy north of the base point (grid metres)."""
    return p.to_wgs84(BASE_X + dx, BASE_Y + dy)


def camera_at(p: Projector, dx: float, dy: float, camera_id: str = "cam", **fields: Any) -> Camera:
    """A camera at a grid offset from the base point."""
    lon, lat = lonlat(p, dx, dy)
    return Camera(camera_id=camera_id, lat=lat, lon=lon, **fields)


def caller_at(p: Projector, dx: float, dy: float, radius_m: float, confidence: float = 0.95) -> Region:
    """A circular caller region at a grid offset from the base point."""
    lon, lat = lonlat(p, dx, dy)
    return circle(p, lat, lon, radius_m, confidence)
