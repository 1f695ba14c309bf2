"""The detection record, and the checks that split a sender's batch into items to store and rejections."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, get_args

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from dispatch.ingest.json import rfc3339
from dispatch.ingest.model import LocationError

Kind = Literal["face", "plate", "vehicle", "person", "fire", "smoke", "crowd", "accident", "weapon", "other"]
KINDS: Final[tuple[str, ...]] = get_args(Kind)
DEFAULT_SKEW_S: Final = 30.0  # appliance clocks drift a little; more than this is a wrong clock, not latency
MAX_BATCH: Final = 1000
MAX_ITEM_BYTES: Final = 64 * 1024  # a batched detection gets no more room than one posted alone
MAX_ATTRIBUTE_DEPTH: Final = 16
_BOX_SLACK: Final = 1e-9  # 0.41 + 0.59 is 1.0000000000000002 in binary floating point
_TIME_HINT: Final = "detected_at must be an RFC 3339 time with an offset, e.g. 2026-11-26T20:14:55+07:00"
Issue = dict[str, str]  # {"field": ..., "message": ...}, the shape of a problem's `errors` entries


class DetectionIn(BaseModel):
    """One detection as a camera-analytics sender posts it; detected_at is kept in UTC."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    detection_id: str = Field(min_length=1, max_length=128)
    camera_id: str = Field(min_length=1, max_length=128)
    detected_at: AwareDatetime
    kind: Kind
    label: str | None = Field(default=None, max_length=256)
    confidence: float = Field(ge=0, le=1, strict=True)
    box: tuple[float, float, float, float] | None = Field(
        default=None, description="[x, y, w, h] as fractions of the frame."
    )
    snapshot_url: str | None = Field(default=None, max_length=2048)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("detected_at", mode="before")
    @classmethod
    def _rfc3339(cls, value: object) -> datetime:
        # Only text with an offset: pydantic alone would also take unix numbers and naive times.
        try:
            return rfc3339("detected_at", value)
        except LocationError:
            raise ValueError(_TIME_HINT) from None

    @field_validator("box", mode="before")
    @classmethod
    def _unit_box(cls, value: object) -> object:
        if value is None:
            return None
        if not isinstance(value, list) or len(value) != 4 or not all(map(_is_number, value)):
            raise ValueError("box must be [x, y, w, h]: four numbers, fractions of the frame")
        x, y, w, h = value
        if min(value) < 0 or max(value) > 1 or x + w > 1 + _BOX_SLACK or y + h > 1 + _BOX_SLACK:
            rule = "x, y, w, h in 0..1, x+w and y+h ≤ 1"
            raise ValueError(f"box {_short(value)} is outside the unit square: {rule}")
        return value

    @field_validator("detection_id", "camera_id", "label", "snapshot_url")
    @classmethod
    def _no_nul(cls, value: str | None, info: ValidationInfo) -> str | None:
        # PostgreSQL text cannot hold NUL: refuse it here rather than fail the whole write.
        if value is not None and "\x00" in value:
            raise ValueError(f"{info.field_name} must not contain NUL characters")
        return value

    @field_validator("attributes")
    @classmethod
    def _storable(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            _check_storable(value)
        except ValueError as exc:
            raise ValueError(f"attributes {exc}") from None
        return value


def _is_number(value: object) -> bool:
    # A tuple, not `int | float`: isinstance with a union type is slower, and this runs for every box value.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_storable(root: object) -> None:
    """Refuses NUL in strings (jsonb cannot hold it) and nesting deep enough to trouble recursive readers."""
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_ATTRIBUTE_DEPTH:
            raise ValueError(f"nested deeper than {MAX_ATTRIBUTE_DEPTH} levels")
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def to_record(detection: DetectionIn) -> dict[str, Any]:
    """The JSON-ready shape that storage answers and consoles receive (detected_at as RFC 3339 UTC)."""
    record = detection.model_dump()
    record["detected_at"] = rfc3339_utc(detection.detected_at)
    record["box"] = list(detection.box) if detection.box is not None else None
    return record


def rfc3339_utc(moment: datetime) -> str:
    """An aware time as RFC 3339 in UTC with a Z, the way the service answers every time."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 64 else text[:61] + "..."


def _issue(err: ErrorDetails) -> Issue:
    """A pydantic error as a message a sender can act on."""
    field = ".".join(str(part) for part in err["loc"])
    kind, given = err["type"], err.get("input")
    if kind == "missing":
        return {"field": field, "message": f"missing field '{field}'"}
    if kind == "extra_forbidden":
        return {"field": field, "message": f"unexpected field '{field}'"}
    if field == "kind":
        return {"field": field, "message": f"unknown kind {_short(given)}; known: {', '.join(KINDS)}"}
    if field == "confidence":
        inside = kind not in ("greater_than_equal", "less_than_equal")
        text = f"must be a number in 0..1, not {_short(given)}" if inside else f"{given} is outside 0..1"
        return {"field": field, "message": f"confidence {text}"}
    if kind == "value_error":  # the validators above write whole sentences
        return {"field": field, "message": err["msg"].removeprefix("Value error, ")}
    return {"field": field, "message": f"{field}: {err['msg']}"}


def check(
    item: object,
    known_cameras: set[str],
    now: datetime,
    skew_s: float = DEFAULT_SKEW_S,
) -> tuple[DetectionIn | None, list[Issue]]:
    """One detection, or every reason it cannot be stored."""
    if not isinstance(item, dict):
        return None, [{"field": "", "message": "a detection must be a JSON object"}]
    issues: list[Issue] = []
    model: DetectionIn | None = None
    try:
        model = DetectionIn.model_validate(item)
    except ValidationError as exc:
        issues = [_issue(err) for err in exc.errors(include_url=False)]
    camera_id = item.get("camera_id")
    if isinstance(camera_id, str) and camera_id and camera_id not in known_cameras:
        hint = "register it first (PUT /v1/cameras/{id})"
        issues.append({"field": "camera_id", "message": f"unknown camera {_short(camera_id)}; {hint}"})
    if model is not None and model.detected_at > now + timedelta(seconds=skew_s):
        ahead = (model.detected_at - now).total_seconds()
        message = (
            f"detected_at is {ahead:.0f} s in the future, beyond the {skew_s:g} s clock skew allowed; "
            "check the sender's clock"
        )
        issues.append({"field": "detected_at", "message": message})
    return (None if issues else model), issues


def camera_ids(items: Iterable[object]) -> set[str]:
    """The camera ids a batch names, to look up in one query."""
    return {
        item["camera_id"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("camera_id"), str)
    }


def _sized_check(
    item: object,
    known_cameras: set[str],
    now: datetime,
    skew_s: float,
) -> tuple[DetectionIn | None, list[Issue]]:
    size = len(orjson.dumps(item))
    if size > MAX_ITEM_BYTES:
        return None, [{"field": "", "message": f"detection is {size} bytes; at most {MAX_ITEM_BYTES}"}]
    return check(item, known_cameras, now, skew_s)


def validate_batch(
    items: list[object], known_cameras: set[str], now: datetime, skew_s: float = DEFAULT_SKEW_S
) -> tuple[list[DetectionIn], list[dict[str, Any]]]:
    """Valid items, and a rejection with every reason for each invalid one (a repeated id counts once)."""
    valid: list[DetectionIn] = []
    rejected: list[dict[str, Any]] = []
    first_at: dict[str, int] = {}
    for index, item in enumerate(items):
        model, issues = _sized_check(item, known_cameras, now, skew_s)
        if model is not None and model.detection_id in first_at:
            first = first_at[model.detection_id]
            message = f"duplicate detection_id within the batch (first at index {first})"
            model, issues = None, [{"field": "detection_id", "message": message}]
        if model is None:
            given = item.get("detection_id") if isinstance(item, dict) else None
            rejected.append(
                {
                    "index": index,
                    "detection_id": given if isinstance(given, str) else None,
                    "reason": "; ".join(issue["message"] for issue in issues),
                }
            )
        else:
            first_at[model.detection_id] = index
            valid.append(model)
    return valid, rejected
