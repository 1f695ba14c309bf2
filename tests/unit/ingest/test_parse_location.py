"""The webhook's one entry point, parse_location, over every form INTERFACES.md names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dispatch.ingest.location import LocationError, parse_location

PAYLOADS = Path(__file__).parents[2] / "payloads"


def test_null_means_no_location_yet() -> None:
    assert parse_location(None) is None


def test_plain_json() -> None:
    location = parse_location({"lat": 10.7769, "lon": 106.7009, "uncertainty_m": 35, "source": "gnss"})
    assert location is not None
    assert (location.shape, location.radius_m, location.source) == ("circle", 35, "gnss")


def test_pidf_lo_wrapper() -> None:
    location = parse_location({"pidf_lo": (PAYLOADS / "pidf_lo" / "circle_confidence.xml").read_text()})
    assert location is not None
    assert (location.shape, location.source, location.radius_m) == ("circle", "pidf_lo", 35)


def test_aml_sms_wrapper() -> None:
    location = parse_location({"aml": (PAYLOADS / "aml" / "v1_gnss_ben_thanh.txt").read_text()})
    assert location is not None
    assert (location.lat, location.lon, location.source) == (10.7769, 106.7009, "aml")


def test_aml_https_wrapper() -> None:
    form = json.loads((PAYLOADS / "aml" / "https_wifi_numbers.json").read_text())
    location = parse_location({"aml_https": form})
    assert location is not None
    assert (location.radius_m, location.source) == (48, "aml")


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ({"pidf_lo": "<presence/>", "lat": 1}, "location", "'pidf_lo' must be the only field.*lat"),
        ({"aml": 'A"ML=2;lo=1,2', "aml_https": {}}, "location", "must be the only field"),
        ({"pidf_lo": 5}, "location.pidf_lo", "must be a string"),
        ({"pidf_lo": b"<presence/>"}, "location.pidf_lo", "must be a string"),
        ({"aml": None}, "location.aml", "must be a string"),
        ({"aml_https": "location_latitude=10"}, "location.aml_https", "must be an object"),
        ({"aml": "lat=10;lon=106"}, "location.aml", 'A"ML'),
        ({"pidf_lo": "<presence"}, "location.pidf_lo", "not well-formed"),
        ({}, "location.lat", "required"),
        ({"lat": 1, "lon": 2, "pidf": "x"}, "location", "unknown field"),
        ([10.7, 106.7], "location", "object or null"),
        ("10.7,106.7", "location", "object or null"),
        (True, "location", "object or null"),
        (0, "location", "object or null"),
    ],
)
def test_rejections_name_the_field(value: object, field: str, message: str) -> None:
    with pytest.raises(LocationError, match=message) as caught:
        parse_location(value)
    assert caught.value.field == field
