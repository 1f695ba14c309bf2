"""The camera registry record: what senders write and what the service answers."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from geo.camera import Camera, Kind

CameraKind = Literal["fixed", "ptz", "dome"]
Quality = Literal["hd", "analog"]
Status = Literal["online", "offline"]


class Streams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rtsp: str | None = Field(
        default=None, max_length=2048, description="Source stream URL (never sent to consoles)."
    )
    path: str | None = Field(
        default=None,
        max_length=256,
        pattern=r"^[A-Za-z0-9._~/-]+$",
        description="Gateway path; default the camera id.",
    )


class CameraIn(BaseModel):
    """A camera as written to the registry; position either as lat/lon or as x/y in a named CRS."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    camera_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    name: str = Field(default="", max_length=256)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    x: float | None = None
    y: float | None = None
    crs: str | None = Field(
        default=None, max_length=64, description="EPSG code of x/y, e.g. EPSG:9210 (VN-2000)."
    )
    height_m: float = Field(default=6.0, ge=0, le=500)
    heading_deg: float = Field(default=0.0, ge=0, le=360)
    fov_deg: float = Field(default=90.0, gt=0, le=360)
    range_m: float = Field(default=60.0, gt=0, le=5000)
    kind: CameraKind = "fixed"
    pan_min_deg: float | None = Field(default=None, ge=0, le=360)
    pan_max_deg: float | None = Field(default=None, ge=0, le=360)
    quality: Quality = "analog"
    connected: bool = False
    status: Status = "online"
    streams: Streams = Field(default_factory=Streams)
    area: str = Field(default="", max_length=128)
    owner: str = Field(default="", max_length=128)
    tags: dict[str, str] = Field(default_factory=dict)
    public: bool = False

    @field_validator("tags")
    @classmethod
    def _small_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        if len(tags) > 64 or any(len(k) > 64 or len(v) > 256 for k, v in tags.items()):
            raise ValueError("at most 64 tags, keys up to 64 and values up to 256 characters")
        return tags

    @model_validator(mode="after")
    def _one_position(self) -> CameraIn:
        has_wgs84 = self.lat is not None and self.lon is not None
        has_xy = self.x is not None and self.y is not None and self.crs is not None
        if not has_wgs84 and not has_xy:
            raise ValueError("give lat and lon, or x, y and crs")
        for value in (self.x, self.y):
            if value is not None and not math.isfinite(value):
                raise ValueError("x and y must be finite numbers")
        return self


class CameraOut(BaseModel):
    """A stored camera, always with its WGS 84 position."""

    camera_id: str
    name: str
    lat: float
    lon: float
    height_m: float
    heading_deg: float
    fov_deg: float
    range_m: float
    kind: CameraKind
    pan_min_deg: float | None
    pan_max_deg: float | None
    quality: Quality
    connected: bool
    status: Status
    streams: Streams
    area: str
    owner: str
    tags: dict[str, str]
    public: bool


def columns(model: type[CameraIn | CameraOut], streams: str) -> tuple[str, ...]:
    """The model's fields as flat columns, in order: `streams` becomes `{streams}rtsp` and `{streams}path`."""
    nested = tuple(streams + name for name in Streams.model_fields)
    return tuple(
        column for name in model.model_fields for column in (nested if name == "streams" else (name,))
    )


def to_geo(camera: CameraOut) -> Camera:
    """The geo/ view of a stored camera."""
    return Camera(
        camera_id=camera.camera_id,
        lat=camera.lat,
        lon=camera.lon,
        heading_deg=camera.heading_deg,
        fov_deg=camera.fov_deg,
        range_m=camera.range_m,
        height_m=camera.height_m,
        kind=Kind(camera.kind),
        pan_min_deg=camera.pan_min_deg,
        pan_max_deg=camera.pan_max_deg,
        quality=camera.quality,
        connected=camera.connected,
        online=camera.status == "online",
    )
