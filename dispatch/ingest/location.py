"""The one entry point for every caller-location form the telephony webhook accepts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from dispatch.ingest.aml import parse_aml_https, parse_aml_sms
from dispatch.ingest.json import FIELD, parse_json_location
from dispatch.ingest.model import LocationError, ReportedLocation
from dispatch.ingest.pidf_lo import parse_pidf_lo

__all__ = ["LocationError", "ReportedLocation", "parse_location"]


def _text_of(key: str, parse: Callable[[str], ReportedLocation]) -> Callable[[object], ReportedLocation]:
    """A reader for a wrapper whose value must be a string."""

    def read(value: object) -> ReportedLocation:
        if not isinstance(value, str):
            raise LocationError(f"{FIELD}.{key}", "must be a string")
        return parse(value)

    return read


# {"pidf_lo": "<presence ...>"}, {"aml": "A\"ML=..."} and {"aml_https": {...}} wrap the other formats.
_WRAPPERS: Final[dict[str, Callable[[object], ReportedLocation]]] = {
    "pidf_lo": _text_of("pidf_lo", parse_pidf_lo),
    "aml": _text_of("aml", parse_aml_sms),
    "aml_https": parse_aml_https,
}


def parse_location(obj: object) -> ReportedLocation | None:
    """Parse a webhook `location` value; None (JSON null) means the call has no location yet."""
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        raise LocationError(FIELD, "must be an object or null")
    wrappers = [key for key in obj if isinstance(key, str) and key in _WRAPPERS]
    if not wrappers:
        return parse_json_location(obj)
    if len(obj) != 1:
        others = sorted(str(key) for key in obj if key != wrappers[0])
        raise LocationError(FIELD, f"{wrappers[0]!r} must be the only field, also found: {', '.join(others)}")
    return _WRAPPERS[wrappers[0]](obj[wrappers[0]])
