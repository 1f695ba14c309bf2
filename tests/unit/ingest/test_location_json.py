"""The plain JSON location form: {lat, lon, uncertainty_m, confidence, source, measured_at}."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dispatch.ingest.json import parse_json_location
from dispatch.ingest.model import LocationError

CONTRACT_EXAMPLE = {
    "lat": 10.7769,
    "lon": 106.7009,
    "uncertainty_m": 35,
    "confidence": 0.68,
    "source": "aml",
    "measured_at": "2026-11-26T20:15:01+07:00",
}


def test_contract_example_is_a_circle_with_utc_time() -> None:
    location = parse_json_location(CONTRACT_EXAMPLE)
    assert (location.shape, location.lat, location.lon) == ("circle", 10.7769, 106.7009)
    assert location.radius_m == 35
    assert location.confidence == 0.68
    assert location.source == "aml"
    assert location.measured_at == datetime(2026, 11, 26, 13, 15, 1, tzinfo=UTC)


@pytest.mark.parametrize("uncertainty", [None, 0, 0.0])
def test_no_uncertainty_is_a_point_with_defaults(uncertainty: float | None) -> None:
    data: dict[str, object] = {"lat": 10, "lon": 106}
    if uncertainty is not None:
        data["uncertainty_m"] = uncertainty
    location = parse_json_location(data)
    assert location.shape == "point"
    assert location.radius_m is None
    assert (location.confidence, location.source, location.measured_at) == (0.68, "unknown", None)


def test_null_optional_fields_count_as_absent() -> None:
    data = {"lat": 10.5, "lon": 106.5, "uncertainty_m": None, "confidence": None, "source": None}
    location = parse_json_location({**data, "measured_at": None})
    assert (location.shape, location.confidence, location.source) == ("point", 0.68, "unknown")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T20:15:01.120+07:00", datetime(2026, 11, 26, 13, 15, 1, 120000, tzinfo=UTC)),
        ("2026-11-26T13:15:01Z", datetime(2026, 11, 26, 13, 15, 1, tzinfo=UTC)),
        ("2026-11-26t13:15:01z", datetime(2026, 11, 26, 13, 15, 1, tzinfo=UTC)),
        ("2026-11-26 08:15:01-05:00", datetime(2026, 11, 26, 13, 15, 1, tzinfo=UTC)),
    ],
)
def test_measured_at_accepts_rfc3339_with_offset(text: str, expected: datetime) -> None:
    location = parse_json_location({"lat": 1, "lon": 2, "measured_at": text})
    assert location.measured_at == expected
    assert location.measured_at is not None and location.measured_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lat": None}, "location.lat"),
        ({"lon": None}, "location.lon"),
        ({"lat": "10.7769"}, "location.lat"),
        ({"lat": True}, "location.lat"),
        ({"lon": float("nan")}, "location.lon"),
        ({"lon": float("inf")}, "location.lon"),
        ({"lat": 10**400}, "location.lat"),
        ({"lat": 90.0001}, "location"),
        ({"lon": -180.5}, "location"),
        ({"uncertainty_m": -1}, "location.uncertainty_m"),
        ({"uncertainty_m": False}, "location.uncertainty_m"),
        ({"uncertainty_m": 2_000_000}, "location"),
        ({"confidence": 0}, "location.confidence"),
        ({"confidence": 1}, "location.confidence"),
        ({"confidence": 68}, "location.confidence"),
        ({"confidence": True}, "location.confidence"),
        ({"source": "gps"}, "location.source"),
        ({"source": 3}, "location.source"),
        ({"measured_at": "2026-11-26T20:15:01"}, "location.measured_at"),
        ({"measured_at": "2026-11-26"}, "location.measured_at"),
        ({"measured_at": "2026-13-26T20:15:01Z"}, "location.measured_at"),
        ({"measured_at": "2026-11-26T20:15:60Z"}, "location.measured_at"),
        ({"measured_at": "0001-01-01T00:00:00+07:00"}, "location.measured_at"),
        ({"measured_at": "２０２６-11-26T20:15:01Z"}, "location.measured_at"),
        ({"measured_at": 1795698901}, "location.measured_at"),
    ],
)
def test_bad_values_are_rejected_naming_the_field(change: dict[str, object], field: str) -> None:
    data = {key: value for key, value in {**CONTRACT_EXAMPLE, **change}.items() if value is not None}
    with pytest.raises(LocationError) as caught:
        parse_json_location(data)
    assert caught.value.field == field


def test_unknown_keys_are_rejected_by_name() -> None:
    with pytest.raises(LocationError, match="accuracy, floor") as caught:
        parse_json_location({**CONTRACT_EXAMPLE, "floor": 3, "accuracy": 20})
    assert caught.value.field == "location"


@pytest.mark.parametrize("value", [[10.7, 106.7], "10.7,106.7", 42, None])
def test_non_objects_are_rejected(value: object) -> None:
    with pytest.raises(LocationError):
        parse_json_location(value)
