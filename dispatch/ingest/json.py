"""Plain JSON caller locations, plus the value checks every location parser shares."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final, get_args

from pydantic import ValidationError

from dispatch.ingest.model import LocationError, ReportedLocation, Source

MAX_INPUT_BYTES: Final = 64 * 1024  # the webhook's body limit for a location; nothing larger is a real fix
DEFAULT_CONFIDENCE: Final = 0.68  # what AML radii commonly mean when a sender gives no confidence
FIELD: Final = "location"

_KEYS: Final = frozenset({"lat", "lon", "uncertainty_m", "confidence", "source", "measured_at"})
_SOURCES: Final = frozenset(get_args(Source))
# re.ASCII: `\d` would otherwise accept other scripts' digits, which float() and fromisoformat() also take.
_DECIMAL: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?", re.ASCII)
_RFC3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def check_size(field: str, text: str | bytes) -> None:
    """Reject a message larger than the 64 KiB any location may take."""
    # Count characters first so that a huge string is refused before it is encoded.
    too_big = len(text) > MAX_INPUT_BYTES or (
        isinstance(text, str) and len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES
    )
    if too_big:
        raise LocationError(field, f"larger than {MAX_INPUT_BYTES // 1024} KiB")


def number(field: str, value: object) -> float:
    """A finite JSON number; booleans are not numbers here."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LocationError(field, "must be a number")
    try:
        result = float(value)
    except OverflowError:  # an integer too large for a float
        raise LocationError(field, "must be a finite number") from None
    if not math.isfinite(result):
        raise LocationError(field, "must be a finite number")
    return result


def decimal(field: str, text: str) -> float:
    """A finite number written as decimal text (XML content, SMS fields)."""
    stripped = text.strip()
    if _DECIMAL.fullmatch(stripped) is None:
        raise LocationError(field, f"not a decimal number: {stripped[:24]!r}")
    result = float(stripped)
    if not math.isfinite(result):
        raise LocationError(field, "must be a finite number")
    return result


def check_position(field: str, lat: float, lon: float) -> None:
    """Reject a WGS 84 latitude or longitude outside its range."""
    if not -90 <= lat <= 90:
        raise LocationError(field, f"latitude {lat} is outside -90..90")
    if not -180 <= lon <= 180:
        raise LocationError(field, f"longitude {lon} is outside -180..180")


def percent(field: str, value: float) -> float:
    """A confidence given in percent, as a fraction strictly between 0 and 1."""
    if not 0 < value < 100:
        raise LocationError(field, f"confidence {value} % must be above 0 and below 100")
    return value / 100


def rfc3339(field: str, value: object) -> datetime:
    """An RFC 3339 timestamp with an offset, as an aware datetime in UTC."""
    if not isinstance(value, str) or _RFC3339.fullmatch(value) is None:
        raise LocationError(field, "must be an RFC 3339 time with an offset, e.g. 2026-11-26T20:15:01+07:00")
    try:
        return datetime.fromisoformat(value.upper().replace(" ", "T")).astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # month 13, second 60, year 1 shifted before year 1...
        raise LocationError(field, f"not a valid time: {exc}") from None


def build(field: str, values: Mapping[str, object]) -> ReportedLocation:
    """The model for already-checked values; whatever it still refuses becomes a LocationError."""
    try:
        return ReportedLocation.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise LocationError(field, f"{where}: {first['msg']}") from None


def circle_or_point(radius_m: float | None) -> dict[str, object]:
    """Shape fields for a position with an optional radius; no radius or 0 means a bare point."""
    if not radius_m:
        return {"shape": "point"}
    return {"shape": "circle", "radius_m": radius_m}


def parse_json_location(data: object) -> ReportedLocation:
    """Parse the plain JSON form {lat, lon, uncertainty_m, confidence, source, measured_at}."""
    if not isinstance(data, Mapping):
        raise LocationError(FIELD, "must be an object")
    unknown = sorted(str(key) for key in data if key not in _KEYS)
    if unknown:
        raise LocationError(FIELD, f"unknown field(s): {', '.join(unknown)}")
    lat = number(f"{FIELD}.lat", _required(data, "lat"))
    lon = number(f"{FIELD}.lon", _required(data, "lon"))
    check_position(FIELD, lat, lon)
    return build(
        FIELD,
        {
            "lat": lat,
            "lon": lon,
            **circle_or_point(_uncertainty(data.get("uncertainty_m"))),
            "confidence": _confidence(data.get("confidence")),
            "source": _source(data.get("source")),
            "measured_at": _measured_at(data.get("measured_at")),
        },
    )


def _required(data: Mapping[str, object], key: str) -> object:
    """The value under `key`, which must be present and not null."""
    value = data.get(key)
    if value is None:
        raise LocationError(f"{FIELD}.{key}", "is required")
    return value


def _uncertainty(value: object) -> float | None:
    """The optional uncertainty radius in metres."""
    if value is None:
        return None
    radius = number(f"{FIELD}.uncertainty_m", value)
    if radius < 0:
        raise LocationError(f"{FIELD}.uncertainty_m", "must not be negative")
    return radius


def _confidence(value: object) -> float:
    """The optional confidence, a fraction strictly between 0 and 1."""
    if value is None:
        return DEFAULT_CONFIDENCE
    confidence = number(f"{FIELD}.confidence", value)
    if not 0 < confidence < 1:
        raise LocationError(f"{FIELD}.confidence", "must be above 0 and below 1 (a fraction, e.g. 0.68)")
    return confidence


def _measured_at(value: object) -> datetime | None:
    """The optional time of the fix."""
    return None if value is None else rfc3339(f"{FIELD}.measured_at", value)


def _source(value: object) -> str:
    """The optional source label, one of the contract's values."""
    if value is None:
        return "unknown"
    if not isinstance(value, str) or value not in _SOURCES:
        raise LocationError(f"{FIELD}.source", f"must be one of {', '.join(sorted(_SOURCES))}")
    return value
