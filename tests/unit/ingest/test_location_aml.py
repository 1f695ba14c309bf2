"""AML (ETSI TS 103 625) SMS versions 1 and 2 and the HTTPS form, kept as files under tests/payloads/aml."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dispatch.ingest.aml import parse_aml_https, parse_aml_sms
from dispatch.ingest.model import LocationError

PAYLOADS = Path(__file__).parents[2] / "payloads" / "aml"
PERSONAL = ("356938035643809", "452040", "+84901234567", "452040123456789", "113")


def sms(name: str) -> str:
    """A captured-style SMS body (the file ends with a newline, as captures do)."""
    return (PAYLOADS / name).read_text(encoding="utf-8")


def https(name: str) -> dict[str, object]:
    """A captured-style HTTPS form, already decoded into an object."""
    data = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def v1(fields: str) -> str:
    """A version 1 message with the given fields and a correct ml."""
    head = f'A"ML=1;{fields};ml='
    digits = len(str(len(head) + 3))  # ml counts its own digits too
    return head + str(len(head) + digits)


def test_v1_gnss_fix() -> None:
    location = parse_aml_sms(sms("v1_gnss_ben_thanh.txt"))
    assert (location.shape, location.lat, location.lon, location.radius_m) == (
        "circle",
        10.7769,
        106.7009,
        35,
    )
    assert (location.confidence, location.source) == (0.68, "aml")
    assert location.measured_at == datetime(2026, 11, 26, 13, 15, 1, tzinfo=UTC)


def test_v1_keeps_nothing_personal() -> None:
    dumped = repr(parse_aml_sms(sms("v1_gnss_ben_thanh.txt")).model_dump())
    assert not [value for value in PERSONAL if value in dumped]


def test_v1_without_lc_defaults_to_68_percent_and_reads_decimal_radius() -> None:
    location = parse_aml_sms(sms("v1_wifi_no_lc.txt"))
    assert (location.lat, location.lon, location.radius_m, location.confidence) == (
        10.78012,
        106.69871,
        14.5,
        0.68,
    )


def test_v1_southern_and_western_hemispheres() -> None:
    location = parse_aml_sms(sms("v1_cell_south_west.txt"))
    assert (location.lat, location.lon, location.radius_m) == (-33.86785, -151.20732, 1250)
    assert location.confidence == pytest.approx(0.90)


def test_v1_without_radius_is_a_point() -> None:
    location = parse_aml_sms(v1("lt=+10.5;lg=+106.5;top=20261126131501;lc=68;pm=G"))
    assert (location.shape, location.radius_m) == ("point", None)


def test_v2_reads_lo_and_fix_time_and_not_lg_as_longitude() -> None:
    location = parse_aml_sms(sms("v2_els_ben_thanh.txt"))
    assert (location.shape, location.lat, location.lon, location.radius_m) == (
        "circle",
        10.7769,
        106.7009,
        20.1,
    )
    assert (location.confidence, location.source) == (0.68, "aml")
    assert location.measured_at == datetime(2026, 11, 26, 13, 15, 6, tzinfo=UTC)  # et + lt


def test_v2_unknown_accuracy_and_fix_time() -> None:
    location = parse_aml_sms(sms("v2_unknown_accuracy_time.txt"))
    assert (location.shape, location.lat, location.lon) == ("point", 10.76245, 106.66028)
    assert location.measured_at is None


def test_v2_without_accuracy_or_times() -> None:
    location = parse_aml_sms('A"ML=2;lo=10.5,106.5;lc=90')
    assert (location.shape, location.lat, location.lon, location.confidence) == ("point", 10.5, 106.5, 0.9)
    assert location.measured_at is None


def test_v2_ml_is_checked_when_present() -> None:
    body = 'A"ML=2;lo=10.5,106.5,12;ml='
    assert parse_aml_sms(body + str(len(body) + 2)).radius_m == 12
    with pytest.raises(LocationError, match="says"):
        parse_aml_sms(body + str(len(body) + 3))


@pytest.mark.parametrize(
    ("message", "field", "message_part"),
    [
        (sms("v1_no_fix.txt"), "location.aml", "no position fix"),
        (sms("v1_wrong_ml.txt"), "location.aml.ml", "says '129' but the message is 130"),
        (sms("v1_truncated.txt"), "location.aml.ml", "missing"),
        (sms("v1_gnss_ben_thanh.txt").replace("ml=129", "ml=abc"), "location.aml.ml", "says"),
        ("AML=1;lt=10;lg=106;ml=22", "location.aml", 'begin with A"ML='),
        ("", "location.aml", 'begin with A"ML='),
        ('A"ML=3;lo=10.5,106.5', "location.aml", "version '3'"),
        ('A"ML=', "location.aml", "version ''"),
        (v1("lt=+10.5;lt=+10.6;lg=+106.5"), "location.aml", "appears twice"),
        (v1("lt=+10.5;lg;rd=5"), "location.aml", "malformed field"),
        (v1("lt=+10.5;=5;lg=+106.5"), "location.aml", "malformed field"),
        (v1("lg=+106.5;rd=5"), "location.aml.lt", "required"),
        (v1("lt=ten;lg=+106.5"), "location.aml.lt", "not a decimal"),
        (v1("lt=+95.0;lg=+106.5"), "location.aml", "latitude"),
        (v1("lt=+10.5;lg=+196.5"), "location.aml", "longitude"),
        (v1("lt=+10.5;lg=+106.5;rd=-3"), "location.aml", "rd must not be negative"),
        (v1("lt=+10.5;lg=+106.5;rd=inf"), "location.aml.rd", "not a decimal"),
        (v1("lt=+10.5;lg=+106.5;lc=0"), "location.aml", "above 0"),
        (v1("lt=+10.5;lg=+106.5;lc=100"), "location.aml", "below 100"),
        (v1("lt=+10.5;lg=+106.5;top=20261326131501"), "location.aml.top", "yyyyMMddHHmmss"),
        (v1("lt=+10.5;lg=+106.5;top=2026112613150"), "location.aml.top", "yyyyMMddHHmmss"),
        ('A"ML=2;lc=68', "location.aml.lo", "required"),
        ('A"ML=2;lo=10.5', "location.aml.lo", "latitude,longitude"),
        ('A"ML=2;lo=10.5,106.5,3,4', "location.aml.lo", "latitude,longitude"),
        ('A"ML=2;lo=10.5,106.5,-3', "location.aml", "accuracy must not be negative"),
        ('A"ML=2;lo=10.5,106.5;et=soon;lt=5', "location.aml.et", "not an integer"),
        ('A"ML=2;lo=10.5,106.5;et=999999999999999;lt=5', "location.aml.et", "out of range"),
        ('A"ML=2;lo=10.5,106.5;' + "x" * 70000, "location.aml", "64 KiB"),
    ],
)
def test_sms_rejections(message: str, field: str, message_part: str) -> None:
    with pytest.raises(LocationError, match=message_part.replace("(", r"\(")) as caught:
        parse_aml_sms(message)
    assert caught.value.field == field


def test_https_form_with_text_values() -> None:
    location = parse_aml_https(https("https_gps_form_strings.json"))
    assert (location.shape, location.lat, location.lon, location.radius_m) == (
        "circle",
        10.7769,
        106.7009,
        12.5,
    )
    assert (location.confidence, location.source) == (0.83, "aml")
    assert location.measured_at == datetime(2026, 11, 26, 13, 15, 3, 120000, tzinfo=UTC)
    dumped = repr(location.model_dump())
    assert not [value for value in PERSONAL if value in dumped]


def test_https_form_with_json_numbers_and_default_certainty() -> None:
    location = parse_aml_https(https("https_wifi_numbers.json"))
    assert (location.lat, location.lon, location.radius_m, location.confidence) == (
        10.76245,
        106.66028,
        48,
        0.68,
    )
    assert location.measured_at == datetime(2026, 11, 26, 13, 16, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"location_latitude": ""}, "location.aml_https.location_latitude"),
        ({"location_longitude": None}, "location.aml_https.location_longitude"),
        ({"location_latitude": True}, "location.aml_https.location_latitude"),
        ({"location_latitude": [10.7]}, "location.aml_https.location_latitude"),
        ({"location_latitude": "10,7769"}, "location.aml_https.location_latitude"),
        ({"location_longitude": 206.7}, "location.aml_https"),
        ({"location_accuracy": -1}, "location.aml_https"),
        ({"location_certainty": "0"}, "location.aml_https"),
        ({"location_certainty": 100}, "location.aml_https"),
        ({"location_time": "1e300"}, "location.aml_https.location_time"),
        ({"location_time": "yesterday"}, "location.aml_https.location_time"),
    ],
)
def test_https_rejections(change: dict[str, object], field: str) -> None:
    with pytest.raises(LocationError) as caught:
        parse_aml_https({**https("https_gps_form_strings.json"), **change})
    assert caught.value.field == field


def test_https_form_without_a_position_is_rejected() -> None:
    with pytest.raises(LocationError, match="required"):
        parse_aml_https(https("https_no_latitude.json"))


@pytest.mark.parametrize("value", ["v=1&location_latitude=10", [1, 2], None])
def test_https_form_must_be_an_object(value: object) -> None:
    with pytest.raises(LocationError, match="must be an object"):
        parse_aml_https(value)
