"""Frigate NVR's `frigate/events` messages as detections: one Frigate event is one detection, kept updated."""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, TypeGuard

import orjson
from pydantic import ValidationError

from dispatch.detections.model import DetectionIn, Kind

log = logging.getLogger(__name__)

Frame = tuple[int, int]  # width, height in pixels
DEFAULT_FRAME: Final[Frame] = (1920, 1080)
ID_PREFIX: Final = "frigate-"
TYPES: Final = frozenset({"new", "update", "end"})
# Frigate+ models add fire, smoke, license_plate, face and the school_bus and garbage_truck vehicles.
KINDS_BY_LABEL: Final[Mapping[str, Kind]] = {
    "person": "person",
    "car": "vehicle",
    "truck": "vehicle",
    "motorcycle": "vehicle",
    "bicycle": "vehicle",
    "bus": "vehicle",
    "school_bus": "vehicle",
    "garbage_truck": "vehicle",
    "fire": "fire",
    "smoke": "smoke",
    "license_plate": "plate",
    "face": "face",
}


class FrigateError(ValueError):
    """A message that is not a usable Frigate event; the text says why."""


class UnknownCamera(FrigateError):
    """A Frigate camera that the configuration maps to none of ours."""

    def __init__(self, camera: str) -> None:
        super().__init__(f"Frigate camera {camera!r} is not mapped to a camera id")
        self.camera = camera


@dataclass(frozen=True)
class FrigateConfig:
    """Which Frigate camera is which of ours, and each one's frame size (Frigate's boxes are in pixels)."""

    cameras: Mapping[str, str]
    frames: Mapping[str, Frame] = field(default_factory=dict)
    default_frame: Frame = DEFAULT_FRAME
    snapshot_base: str = ""  # Frigate's HTTP address; empty leaves snapshot_url out

    def frame(self, camera: str) -> Frame:
        """The frame size of a Frigate camera, by name."""
        return self.frames.get(camera, self.default_frame)


@dataclass
class FrigateStats:
    """What the mapper saw: messages, those it could not use, and those from unmapped cameras by name."""

    messages: int = 0
    mapped: int = 0
    invalid: int = 0
    unknown: Counter[str] = field(default_factory=Counter)


def parse_frame(text: str) -> Frame:
    """A frame size written as WIDTHxHEIGHT, e.g. 1920x1080."""
    width, sep, height = text.strip().lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) == 0 or int(height) == 0:
        raise ValueError(f"frame size {text!r} must be WIDTHxHEIGHT in pixels, e.g. 1920x1080")
    return int(width), int(height)


def parse_cameras(text: str) -> tuple[dict[str, str], dict[str, Frame]]:
    """Camera ids by Frigate name, from "front=HCM-Q1-00042@1280x720,gate=HCM-Q1-00043" (size optional)."""
    cameras: dict[str, str] = {}
    frames: dict[str, Frame] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, target = (s.strip() for s in item.partition("="))
        camera_id, at, size = (s.strip() for s in target.partition("@"))
        if not sep or not name or not camera_id:
            raise ValueError(f"Frigate camera mapping {item!r} must be frigate_name=CAMERA-ID[@WIDTHxHEIGHT]")
        if name in cameras:
            raise ValueError(f"Frigate camera {name!r} is mapped twice")
        cameras[name] = camera_id
        if at:
            frames[name] = parse_frame(size)
    return cameras, frames


def decode(payload: object) -> dict[str, Any]:
    """The JSON object of an MQTT payload."""
    if not isinstance(payload, bytes | bytearray | str):
        raise FrigateError(f"payload is {type(payload).__name__}, not JSON text")
    try:
        message = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise FrigateError(f"payload is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise FrigateError("payload is not a JSON object")
    return message


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _text(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise FrigateError(f"'{key}' must be a non-empty string")
    return value


def _state(message: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """The event's latest state (`after`, else `before`), and whether Frigate has ended it."""
    kind = message.get("type")
    if kind not in TYPES:
        raise FrigateError(f"type {kind!r} is none of new, update, end")
    state = message.get("after") or message.get("before")
    if not isinstance(state, dict):
        raise FrigateError("neither 'after' nor 'before' is an object")
    return state, kind == "end"


def _sub_label(value: object) -> tuple[str | None, float | None]:
    """Frigate's sub_label: a name (up to 0.13) or [name, score] (0.14 on); (None, None) when unset."""
    if isinstance(value, str):
        return value or None, None
    if isinstance(value, list) and value and isinstance(value[0], str) and value[0]:
        score = float(value[1]) if len(value) > 1 and _number(value[1]) else None
        return value[0], score
    return None, None


def _classify(label: str, event: Mapping[str, Any]) -> tuple[Kind, str | None, dict[str, Any]]:
    """Our kind, label and kind-specific attributes: a read plate and a recognised face name someone."""
    name, score = _sub_label(event.get("sub_label"))
    plate = event.get("recognized_license_plate")
    if label == "license_plate" or (isinstance(plate, str) and plate):
        text = plate.strip() if isinstance(plate, str) and plate.strip() else None
        read = event.get("recognized_license_plate_score")
        extra: dict[str, Any] = {"plate_score": float(read)} if _number(read) else {}
        if name:  # a plate on Frigate's known-plates list carries its owner's name here
            extra["sub_label"] = name
        return "plate", text, extra
    if label == "face" or (label == "person" and name):
        return "face", name, {"identity": name, "identity_score": score} if name else {}
    return KINDS_BY_LABEL.get(label, "other"), label, {"sub_label": name} if name else {}


def _box(event: Mapping[str, Any], frame: Frame) -> list[float] | None:
    """Frigate's pixel [x1, y1, x2, y2] as fractions [x, y, w, h] of the frame."""
    raw = event.get("box")
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 4 or not all(_number(v) for v in raw):
        raise FrigateError(f"box {raw!r} is not [x1, y1, x2, y2] in pixels")
    x1, y1, x2, y2 = (max(0.0, float(v)) for v in raw)
    if x2 < x1 or y2 < y1:
        raise FrigateError(f"box {raw!r} ends before it starts")
    # Frigate's detection region and box lie inside the frame: a frame smaller than either is misconfigured.
    region = event.get("region")
    far = [x2, y2]
    if isinstance(region, list) and len(region) == 4 and all(_number(v) for v in region):
        far = [max(x2, float(region[2])), max(y2, float(region[3]))]
    width, height = max(float(frame[0]), far[0]), max(float(frame[1]), far[1])
    x, y = x1 / width, y1 / height
    # min() keeps x + w ≤ 1 when the division rounds up by one ulp.
    return [x, y, min((x2 - x1) / width, 1.0 - x), min((y2 - y1) / height, 1.0 - y)]


def _detected_at(event: Mapping[str, Any]) -> str:
    start = event.get("start_time")
    if not _number(start):
        raise FrigateError("'start_time' must be unix seconds")
    try:
        return datetime.fromtimestamp(float(start), UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        raise FrigateError(f"start_time {start!r} is not a time") from None


def _confidence(event: Mapping[str, Any]) -> float:
    # top_score is the best score the event has reached: it only rises, so updates never lower it.
    for key in ("top_score", "score"):
        value = event.get(key)
        if _number(value):
            return float(value)
    raise FrigateError("neither 'top_score' nor 'score' is a number")


def _common(event: Mapping[str, Any], camera: str, label: str) -> dict[str, Any]:
    zones = event.get("current_zones")
    return {
        "source": "frigate",
        "frigate_camera": camera,
        "object": label,
        "zones": [z for z in zones if isinstance(z, str)] if isinstance(zones, list) else [],
    }


def to_detection(message: Mapping[str, Any], config: FrigateConfig) -> tuple[DetectionIn, bool]:
    """The detection a `frigate/events` message describes, and whether the event has ended."""
    event, ended = _state(message)
    camera = _text(event, "camera")
    camera_id = config.cameras.get(camera)
    if camera_id is None:
        raise UnknownCamera(camera)
    event_id, label = _text(event, "id"), _text(event, "label")
    kind, our_label, extra = _classify(label, event)
    snapshot = None
    if config.snapshot_base and event.get("has_snapshot") is True:
        snapshot = f"{config.snapshot_base.rstrip('/')}/api/events/{event_id}/snapshot.jpg"
    item = {
        "detection_id": ID_PREFIX + event_id,
        "camera_id": camera_id,
        "detected_at": _detected_at(event),
        "kind": kind,
        "label": our_label,
        "confidence": _confidence(event),
        "box": _box(event, config.frame(camera)),
        "snapshot_url": snapshot,
        "attributes": {**_common(event, camera, label), **extra},
    }
    try:
        return DetectionIn.model_validate(item), ended
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise FrigateError(f"event {event_id!r} is not a valid detection: {problems}") from None


class FrigateMapper:
    """Turns raw `frigate/events` payloads into detections, counting and logging what it drops."""

    def __init__(self, config: FrigateConfig, stats: FrigateStats | None = None) -> None:
        self.config = config
        self.stats = stats if stats is not None else FrigateStats()

    def feed(self, payload: object) -> tuple[DetectionIn, bool] | None:
        """The detection in a payload and whether its event ended, or None when it is dropped."""
        self.stats.messages += 1
        try:
            result = to_detection(decode(payload), self.config)
        except UnknownCamera as exc:
            self.stats.unknown[exc.camera] += 1
            # An unmapped camera sends every event it sees: say so once, then count quietly.
            level = logging.WARNING if self.stats.unknown[exc.camera] == 1 else logging.DEBUG
            log.log(level, "Frigate event dropped: %s (add it to the Frigate camera mapping)", exc)
            return None
        except FrigateError as exc:
            self.stats.invalid += 1
            log.warning("Frigate message skipped: %s", exc)
            return None
        self.stats.mapped += 1
        return result
