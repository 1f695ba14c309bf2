"""Whatever arrives, the location parsers answer with a ReportedLocation or a LocationError, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chaos_suite import fuzz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.ingest.aml import parse_aml_https, parse_aml_sms
from dispatch.ingest.location import parse_location
from dispatch.ingest.model import LocationError, ReportedLocation
from dispatch.ingest.pidf_lo import parse_pidf_lo

PAYLOADS = Path(__file__).parents[2] / "payloads"
XML_DOCS = [path.read_text(encoding="utf-8") for path in sorted((PAYLOADS / "pidf_lo").glob("*.xml"))]
SMS = [path.read_text(encoding="utf-8") for path in sorted((PAYLOADS / "aml").glob("*.txt"))]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces that steer random text towards the parsers' deeper branches: the chaos suite's, and some only
# a parser called directly can take (a lone surrogate cannot be sent over HTTP).
XML_PIECES = [
    *fuzz.XML_PIECES,
    ";",
    "urn:ogc:def:crs:EPSG::4326",
    "urn:ogc:def:uom:EPSG::9001",
    "EPSG::9101",
    "\ud800",
]
SMS_PIECES = fuzz.SMS_PIECES


def answers_properly(parse: Callable[[object], ReportedLocation | None], value: object) -> None:
    """Call `parse`: a result or a LocationError is fine; any other exception fails the test."""
    try:
        result = parse(value)
    except LocationError:
        return
    assert result is None or isinstance(result, ReportedLocation)


def splice(documents: list[str], pieces: list[str]) -> st.SearchStrategy[str]:
    """A real message with a random stretch replaced by random text and steering pieces."""
    junk = st.lists(st.one_of(st.sampled_from(pieces), st.text(max_size=8)), max_size=6).map("".join)

    def cut(document: str, start: float, length: int, filler: str) -> str:
        at = int(start * len(document))
        return document[:at] + filler + document[at + length :]

    return st.builds(cut, st.sampled_from(documents), st.floats(0, 1), st.integers(0, 40), junk)


@FUZZ
@given(st.one_of(st.text(), st.binary(), splice(XML_DOCS, XML_PIECES)))
def test_pidf_lo_never_raises_anything_else(document: str | bytes) -> None:
    answers_properly(lambda value: parse_pidf_lo(document), document)


@FUZZ
@given(st.one_of(st.text(), splice(SMS, SMS_PIECES)))
def test_aml_sms_never_raises_anything_else(message: str) -> None:
    answers_properly(lambda value: parse_aml_sms(message), message)


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["", "10.5", "1e400"]),
)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
HTTPS_KEYS = [
    "location_latitude",
    "location_longitude",
    "location_accuracy",
    "location_certainty",
    "location_time",
    "location_source",
    "device_imei",
]
JSON_KEYS = ["lat", "lon", "uncertainty_m", "confidence", "source", "measured_at"]


@FUZZ
@given(st.dictionaries(st.sampled_from(HTTPS_KEYS), JSON_VALUES))
def test_aml_https_never_raises_anything_else(form: dict[str, object]) -> None:
    answers_properly(parse_aml_https, form)


@FUZZ
@given(
    st.one_of(
        JSON_VALUES,
        st.dictionaries(st.sampled_from([*JSON_KEYS, "extra"]), JSON_VALUES),
        st.dictionaries(st.sampled_from(["pidf_lo", "aml", "aml_https"]), JSON_VALUES, min_size=1),
    )
)
def test_parse_location_never_raises_anything_else(value: object) -> None:
    answers_properly(parse_location, value)


@FUZZ
@given(
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    radius=st.floats(0.001, 1_000_000),
    confidence=st.floats(0.001, 0.999),
)
def test_valid_json_round_trips(lat: float, lon: float, radius: float, confidence: float) -> None:
    location = parse_location({"lat": lat, "lon": lon, "uncertainty_m": radius, "confidence": confidence})
    assert location is not None
    assert (location.lat, location.lon, location.radius_m, location.confidence) == (
        lat,
        lon,
        radius,
        confidence,
    )
