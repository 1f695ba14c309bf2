"""The camera as geo/ sees it: where it is and what it can be turned to see."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from geo.errors import GeoError


class Kind(StrEnum):
    FIXED = "fixed"
    PTZ = "ptz"
    DOME = "dome"


@dataclass(frozen=True, slots=True)
class Camera:
    """A camera in WGS 84 with its view; headings are degrees clockwise from true north."""

    camera_id: str
    lat: float
    lon: float
    heading_deg: float = 0.0
    fov_deg: float = 360.0
    range_m: float = 50.0
    height_m: float = 6.0
    kind: Kind = Kind.FIXED
    pan_min_deg: float | None = None
    pan_max_deg: float | None = None
    quality: str = "analog"
    connected: bool = False
    online: bool = True

    def __post_init__(self) -> None:
        _check_finite(self)
        if not -90.0 <= self.lat <= 90.0:
            raise GeoError("lat", f"{self.lat} is outside -90..90")
        if not -180.0 <= self.lon <= 180.0:
            raise GeoError("lon", f"{self.lon} is outside -180..180")
        if not 0.0 <= self.heading_deg <= 360.0:
            raise GeoError("heading_deg", f"{self.heading_deg} is outside 0..360")
        if not 0.0 < self.fov_deg <= 360.0:
            raise GeoError("fov_deg", f"{self.fov_deg} is outside (0, 360]")
        if self.range_m <= 0.0:
            raise GeoError("range_m", f"{self.range_m} must be positive")
        if self.height_m < 0.0:
            raise GeoError("height_m", f"{self.height_m} must not be negative")

    @property
    def all_round(self) -> bool:
        """True when the camera sees (or can be turned to see) every bearing."""
        if self.kind is Kind.DOME or self.fov_deg >= 360.0:
            return True
        if self.kind is Kind.PTZ:
            return self.pan_min_deg is None or self.pan_max_deg is None or self.reach_deg >= 360.0
        return False

    @property
    def pan_span_deg(self) -> float | None:
        """Clockwise sweep from pan_min to pan_max (0..360), or None without both limits."""
        if self.pan_min_deg is None or self.pan_max_deg is None:
            return None
        span = (self.pan_max_deg - self.pan_min_deg) % 360.0
        # 0..360 is a full turn, not a single bearing.
        return 360.0 if span == 0.0 and self.pan_max_deg != self.pan_min_deg else span

    @property
    def reach_deg(self) -> float:
        """Angular width of what the camera covers: its fov, or for PTZ the pan span plus fov."""
        span = self.pan_span_deg
        if self.kind is Kind.PTZ and span is not None:
            return min(360.0, span + self.fov_deg)
        return self.fov_deg

    @property
    def reach_start_deg(self) -> float:
        """Bearing where the covered wedge starts, going clockwise."""
        if self.kind is Kind.PTZ and self.pan_min_deg is not None:
            return (self.pan_min_deg - self.fov_deg / 2.0) % 360.0
        return (self.heading_deg - self.fov_deg / 2.0) % 360.0


def _check_finite(camera: Camera) -> None:
    for name in ("lat", "lon", "heading_deg", "fov_deg", "range_m", "height_m"):
        value = getattr(camera, name)
        if not math.isfinite(value):
            raise GeoError(name, "must be a finite number")
    for name in ("pan_min_deg", "pan_max_deg"):
        value = getattr(camera, name)
        if value is not None and not (math.isfinite(value) and 0.0 <= value <= 360.0):
            raise GeoError(name, "must be a finite bearing in 0..360")
