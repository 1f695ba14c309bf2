"""Request and answer models of the HTTP API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Hotline = Literal["113", "114", "115"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Caller(Strict):
    number: str | None = Field(
        default=None, max_length=32, description="Personal data: stored only as a keyed hash."
    )


class CallIn(Strict):
    call_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    hotline: Hotline
    received_at: AwareDatetime
    caller: Caller = Field(default_factory=Caller)
    location: dict[str, Any] | None = Field(
        default=None, description="JSON fix, {pidf_lo: xml}, {aml: sms}, {aml_https: {...}} or null."
    )


class LocationUpdateIn(Strict):
    location: dict[str, Any]
    seq: int | None = Field(default=None, ge=0, le=2**31 - 1)


class CloseIn(Strict):
    reason: str | None = Field(default=None, max_length=500)


class StatusIn(Strict):
    status: Literal["online", "offline"]


class StatusOut(BaseModel):
    camera_id: str
    status: Literal["online", "offline"]


class Rejection(BaseModel):
    index: int
    camera_id: str | None = None
    reason: str


class ImportResult(BaseModel):
    created: int
    updated: int
    rejected: list[Rejection]


class Feed(BaseModel):
    hls: str | None
    snapshot: str | None
    mjpeg: str | None = None
    expires_at: str


class Aim(BaseModel):
    pan_deg: float
    tilt_deg: float
    within_limits: bool


class MatchedCamera(BaseModel):
    camera_id: str
    name: str
    lat: float
    lon: float
    distance_m: float
    bearing_deg: float
    covers: bool
    coverage: float
    aim: Aim | None
    status: Literal["online", "offline"]
    quality: Literal["hd", "analog"]
    kind: Literal["fixed", "ptz", "dome"]
    heading_deg: float
    fov_deg: float
    range_m: float
    pan_min_deg: float | None = None
    pan_max_deg: float | None = None
    feed: Feed | None


class CameraList(BaseModel):
    cameras: list[MatchedCamera]


class Incident(BaseModel):
    incident_id: str
    call_id: str
    hotline: Hotline
    status: Literal["open", "closed"]
    opened_at: str
    updated_at: str
    degraded: bool
    location: dict[str, Any] | None
    cameras: list[MatchedCamera]
    detections: list[dict[str, Any]]


class IncidentList(BaseModel):
    incidents: list[Incident]


class DetectionRejection(BaseModel):
    index: int
    detection_id: str | None
    reason: str


class DetectionBatchResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: list[DetectionRejection]


class MediaAuthIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    user: str = ""
    password: str = ""
    token: str = ""
    ip: str = ""
    action: str = ""
    path: str = ""
    protocol: str = ""
    id: str | None = None
    query: str = ""


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None
