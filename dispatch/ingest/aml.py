"""Advanced Mobile Location (ETSI TS 103 625): the SMS forms, versions 1 and 2, and the HTTPS form's fields.

Only the position, its radius and confidence, and the time of the fix are kept. The identities these
messages also carry (IMSI, IMEI, emergency number, network codes) are personal and are read past.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Final

from dispatch.ingest.json import build, check_position, check_size, circle_or_point, decimal, number, percent
from dispatch.ingest.model import LocationError, ReportedLocation

FIELD_SMS: Final = "location.aml"
FIELD_HTTPS: Final = "location.aml_https"
DEFAULT_CONFIDENCE_PERCENT: Final = 68.0  # AML's usual level of confidence when lc/certainty is absent

_HEADER: Final = 'A"ML'
_INTEGER: Final = re.compile(r"[+-]?\d{1,15}", re.ASCII)
_TOP: Final = re.compile(r"\d{14}", re.ASCII)
# Version 2's lt is seconds after et; public implementations' test messages use -9999 for "unknown".
_UNKNOWN_OFFSET: Final = -9999

SmsFields = dict[str, str]


def parse_aml_sms(message: str) -> ReportedLocation:
    """Parse an AML SMS, version 1 or 2 as its A"ML header says."""
    check_size(FIELD_SMS, message)
    text = message.strip()  # transport whitespace is not part of what `ml` counts
    fields = _sms_fields(text)
    reader = _SMS_READERS.get(fields[_HEADER])
    if reader is None:
        raise LocationError(FIELD_SMS, f'unsupported A"ML version {fields[_HEADER][:8]!r} (want 1 or 2)')
    return reader(fields, len(text))


def parse_aml_https(data: object) -> ReportedLocation:
    """Parse the AML HTTPS form's fields, given as an object; fields other than location_* are ignored."""
    if not isinstance(data, Mapping):
        raise LocationError(FIELD_HTTPS, "must be an object")
    position = (_https_required(data, "location_latitude"), _https_required(data, "location_longitude"))
    time_ms = _https_number(data, "location_time")
    return _located(
        FIELD_HTTPS,
        position,
        _not_negative(FIELD_HTTPS, "location_accuracy", _https_number(data, "location_accuracy")),
        _https_number(data, "location_certainty"),
        None if time_ms is None else _epoch(f"{FIELD_HTTPS}.location_time", time_ms / 1000),
    )


def _sms_fields(text: str) -> SmsFields:
    """The message's key=value fields, which must begin with the A"ML header."""
    if not text.startswith(f"{_HEADER}="):
        raise LocationError(FIELD_SMS, 'not an AML SMS: it must begin with A"ML=')
    fields: SmsFields = {}
    for part in filter(None, text.split(";")):  # filter: tolerate a trailing ';'
        key, equals, value = part.partition("=")
        if not equals or not key:
            raise LocationError(FIELD_SMS, f"malformed field {part[:24]!r}")
        if key in fields:
            raise LocationError(FIELD_SMS, f"field {key[:24]!r} appears twice")
        fields[key] = value
    return fields


def _sms_v1(fields: SmsFields, length: int) -> ReportedLocation:
    """Version 1: lt, lg, rd (m), top (UTC yyyyMMddHHmmss), lc (%), ml (message length)."""
    _check_length(fields, length, required=True)
    if fields.get("rd") == "N":  # the handsets' way of saying "no fix": lt/lg are then zeros
        raise LocationError(FIELD_SMS, "the handset had no position fix (rd=N)")
    position = (_sms_decimal(fields, "lt"), _sms_decimal(fields, "lg"))
    top = fields.get("top")
    return _located(
        FIELD_SMS,
        position,
        _not_negative(FIELD_SMS, "rd", _sms_number(fields, "rd")),
        _sms_number(fields, "lc"),
        None if top is None else _top(top),
    )


def _sms_v2(fields: SmsFields, length: int) -> ReportedLocation:
    """Version 2: lo=lat,lon[,accuracy m] (0 = unknown), et (call start, epoch s), lt (fix, s after et)."""
    _check_length(fields, length, required=False)
    parts = [decimal(f"{FIELD_SMS}.lo", part) for part in _sms_required(fields, "lo").split(",")]
    if len(parts) not in (2, 3):
        raise LocationError(f"{FIELD_SMS}.lo", "must be latitude,longitude[,accuracy]")
    accuracy = _not_negative(FIELD_SMS, "lo accuracy", parts[2] if len(parts) == 3 else None)
    return _located(FIELD_SMS, (parts[0], parts[1]), accuracy, _sms_number(fields, "lc"), _v2_time(fields))


def _check_length(fields: SmsFields, length: int, *, required: bool) -> None:
    """Refuse a message whose ml differs from its length: it was truncated or altered on the way."""
    declared = fields.get("ml")
    if declared is None:
        if required:
            raise LocationError(f"{FIELD_SMS}.ml", "missing (the message length is mandatory in version 1)")
        return
    if _INTEGER.fullmatch(declared) is None or int(declared) != length:
        message = f"says {declared[:16]!r} but the message is {length} characters"
        raise LocationError(f"{FIELD_SMS}.ml", message)


def _sms_required(fields: SmsFields, key: str) -> str:
    """The value of a field that must be present."""
    value = fields.get(key)
    if value is None:
        raise LocationError(f"{FIELD_SMS}.{key}", "is required")
    return value


def _sms_decimal(fields: SmsFields, key: str) -> float:
    """A decimal field that must be present."""
    return decimal(f"{FIELD_SMS}.{key}", _sms_required(fields, key))


def _sms_number(fields: SmsFields, key: str) -> float | None:
    """A decimal field, or None when it is absent."""
    return None if key not in fields else _sms_decimal(fields, key)


def _sms_integer(fields: SmsFields, key: str) -> int | None:
    """An integer field, or None when it is absent."""
    value = fields.get(key)
    if value is None:
        return None
    if _INTEGER.fullmatch(value) is None:
        raise LocationError(f"{FIELD_SMS}.{key}", f"not an integer: {value[:16]!r}")
    return int(value)


def _v2_time(fields: SmsFields) -> datetime | None:
    """The time of the fix: the call's start (et) plus the fix's offset from it (lt), when both are known."""
    call, offset = _sms_integer(fields, "et"), _sms_integer(fields, "lt")
    if call is None or offset is None or offset == _UNKNOWN_OFFSET:
        return None
    return _epoch(f"{FIELD_SMS}.et", call + offset)


def _top(value: str) -> datetime:
    """Version 1's time of positioning, yyyyMMddHHmmss in UTC."""
    try:
        if _TOP.fullmatch(value) is None:
            raise ValueError(value)
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise LocationError(f"{FIELD_SMS}.top", f"not a UTC time yyyyMMddHHmmss: {value[:16]!r}") from None


def _epoch(field: str, seconds: float) -> datetime:
    """A Unix time in seconds as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise LocationError(field, "time out of range") from None


def _https_number(data: Mapping[object, object], key: str) -> float | None:
    """A number from the HTTPS form, given as a JSON number or as the form's decimal text; None if absent."""
    value = data.get(key)
    if value is None or value == "":  # the form sends empty values for what the handset does not know
        return None
    field = f"{FIELD_HTTPS}.{key}"
    return decimal(field, value) if isinstance(value, str) else number(field, value)


def _https_required(data: Mapping[object, object], key: str) -> float:
    """A number from the HTTPS form that must be present."""
    value = _https_number(data, key)
    if value is None:
        raise LocationError(f"{FIELD_HTTPS}.{key}", "is required")
    return value


def _not_negative(field: str, name: str, value: float | None) -> float | None:
    """A length that may be absent but never negative."""
    if value is not None and value < 0:
        raise LocationError(field, f"{name} must not be negative")
    return value


def _located(
    field: str,
    position: tuple[float, float],
    radius_m: float | None,
    confidence_percent: float | None,
    measured_at: datetime | None,
) -> ReportedLocation:
    """The model for an AML fix: a point, or a circle when it has a radius."""
    lat, lon = position
    check_position(field, lat, lon)
    confidence = DEFAULT_CONFIDENCE_PERCENT if confidence_percent is None else confidence_percent
    return build(
        field,
        {
            "lat": lat,
            "lon": lon,
            **circle_or_point(radius_m),
            "confidence": percent(field, confidence),
            "source": "aml",
            "measured_at": measured_at,
        },
    )


_SMS_READERS: Final[dict[str, Callable[[SmsFields, int], ReportedLocation]]] = {"1": _sms_v1, "2": _sms_v2}
