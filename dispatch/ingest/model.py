"""The one location model every input format (JSON, PIDF-LO, AML) is parsed into."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Shape = Literal["point", "circle", "ellipse", "polygon", "arcband"]
Source = Literal["aml", "gnss", "wifi", "cell", "manual", "pidf_lo", "unknown"]


class ReportedLocation(BaseModel):
    """A caller's location as the sender reported it, in WGS 84, before normalisation."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    shape: Shape
    lat: float = Field(
        ge=-90, le=90, description="Centre (point, circle, ellipse, arc band) or first vertex."
    )
    lon: float = Field(ge=-180, le=180)
    radius_m: float | None = Field(default=None, ge=0, le=1_000_000)
    semi_major_m: float | None = Field(default=None, ge=0, le=1_000_000)
    semi_minor_m: float | None = Field(default=None, ge=0, le=1_000_000)
    orientation_deg: float | None = Field(
        default=None, description="Of the semi-major axis, clockwise from north."
    )
    polygon: list[tuple[float, float]] | None = Field(default=None, description="Vertices as (lat, lon).")
    inner_radius_m: float | None = Field(default=None, ge=0, le=1_000_000)
    outer_radius_m: float | None = Field(default=None, ge=0, le=1_000_000)
    start_angle_deg: float | None = None
    opening_angle_deg: float | None = None
    confidence: float = Field(default=0.68, gt=0, lt=1)
    source: Source = "unknown"
    measured_at: datetime | None = None


class LocationError(ValueError):
    """A location message that cannot be used; `field` names the bad part for the problem document."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
