"""Detection validation: every rejection reason a sender can act on, and what a valid item becomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatch.detections.model import (
    KINDS,
    MAX_ITEM_BYTES,
    camera_ids,
    check,
    to_record,
    validate_batch,
)

NOW = datetime(2026, 11, 26, 13, 15, tzinfo=UTC)
KNOWN = {"HCM-Q1-00042", "HCM-Q1-00043"}


def item(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "detection_id": "cam42-20261126T201455-7", "camera_id": "HCM-Q1-00042",
        "detected_at": "2026-11-26T20:14:55+07:00", "kind": "plate", "label": "51F-123.45",
        "confidence": 0.93, "box": [0.41, 0.55, 0.12, 0.06], "snapshot_url": "https://gw/snap.jpg",
        "attributes": {"color": "white"},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def reasons(raw: object) -> str:
    model, issues = check(raw, KNOWN, NOW)
    assert model is None
    return "; ".join(issue["message"] for issue in issues)


def test_the_interface_example_is_valid_and_kept_in_utc() -> None:
    model, issues = check(item(), KNOWN, NOW)
    assert issues == [] and model is not None
    assert model.detected_at == datetime(2026, 11, 26, 13, 14, 55, tzinfo=UTC)
    record = to_record(model)
    assert record["detected_at"] == "2026-11-26T13:14:55Z"
    assert record["box"] == [0.41, 0.55, 0.12, 0.06]


def test_only_the_required_fields_are_needed() -> None:
    model, _ = check(item(label=..., box=..., snapshot_url=..., attributes=...), KNOWN, NOW)
    assert model is not None and model.box is None and model.attributes == {}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_the_interface_is_accepted(kind: str) -> None:
    assert check(item(kind=kind), KNOWN, NOW)[0] is not None


def test_unknown_camera_says_to_register_it() -> None:
    text = reasons(item(camera_id="HCM-NOPE"))
    assert "unknown camera 'HCM-NOPE'" in text and "PUT /v1/cameras/" in text


def test_unknown_kind_lists_the_known_ones() -> None:
    text = reasons(item(kind="dog"))
    assert "unknown kind 'dog'" in text and "face, plate, vehicle" in text


@pytest.mark.parametrize("confidence", [-0.01, 1.01, 93])
def test_confidence_outside_0_1(confidence: float) -> None:
    assert reasons(item(confidence=confidence)) == f"confidence {confidence} is outside 0..1"


@pytest.mark.parametrize("confidence", ["0.9", True, None])
def test_confidence_must_be_a_json_number(confidence: object) -> None:
    assert "confidence must be a number in 0..1" in reasons(item(confidence=confidence))


OUTSIDE = [[0.5, 0.5, 0.6, 0.1], [0.1, 0.9, 0.1, 0.2], [-0.1, 0, 0.1, 0.1], [0, 0, 1.2, 1]]


@pytest.mark.parametrize("box", OUTSIDE)
def test_box_outside_the_unit_square(box: list[float]) -> None:
    assert "outside the unit square" in reasons(item(box=box))


@pytest.mark.parametrize("box", [[0.1, 0.1, 0.1], "0,0,1,1", [0, 0, True, 1], [0, 0, "1", 1]])
def test_box_must_be_four_numbers(box: object) -> None:
    assert "box must be [x, y, w, h]" in reasons(item(box=box))


def test_box_touching_the_edge_is_inside_despite_rounding() -> None:
    assert check(item(box=[0.41, 0.7, 0.59, 0.3]), KNOWN, NOW)[0] is not None


def test_time_beyond_the_clock_skew_is_refused_within_it_accepted() -> None:
    ahead = (NOW + timedelta(seconds=45)).isoformat()
    assert "45 s in the future, beyond the 30 s clock skew" in reasons(item(detected_at=ahead))
    near = (NOW + timedelta(seconds=20)).isoformat()
    assert check(item(detected_at=near), KNOWN, NOW)[0] is not None
    assert check(item(detected_at=ahead), KNOWN, NOW, skew_s=60)[0] is not None


NOT_RFC3339 = ["2026-11-26T20:14:55", 1764162895, "26/11/2026 20:14", "2026-13-01T00:00:00Z"]


@pytest.mark.parametrize("when", NOT_RFC3339)
def test_time_must_be_rfc3339_with_an_offset(when: object) -> None:
    assert "detected_at must be an RFC 3339 time with an offset" in reasons(item(detected_at=when))


@pytest.mark.parametrize("field", ["detection_id", "camera_id", "detected_at", "kind", "confidence"])
def test_missing_field_is_named(field: str) -> None:
    assert f"missing field '{field}'" in reasons(item(**{field: ...}))


def test_lengths_and_unexpected_fields() -> None:
    assert "detection_id" in reasons(item(detection_id=""))
    assert "detection_id" in reasons(item(detection_id="x" * 129))
    assert "label" in reasons(item(label="x" * 257))
    assert "snapshot_url" in reasons(item(snapshot_url="h" * 2049))
    assert "unexpected field 'colour'" in reasons(item(colour="red"))


def test_text_postgresql_cannot_store_is_refused_before_the_write() -> None:
    assert "label must not contain NUL" in reasons(item(label="51F\x00"))
    assert "attributes must not contain NUL" in reasons(item(attributes={"k": ["\x00"]}))
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    assert "nested deeper" in reasons(item(attributes=deep))


def test_every_reason_of_one_item_is_given() -> None:
    text = reasons(item(camera_id="HCM-NOPE", confidence=2, kind="dog"))
    assert "unknown camera" in text and "unknown kind" in text and "outside 0..1" in text


def test_not_an_object() -> None:
    assert reasons([1, 2]) == "a detection must be a JSON object"


def test_batch_keeps_valid_items_and_indexes_each_rejection() -> None:
    items: list[object] = [
        item(detection_id="a"),
        item(detection_id="b", camera_id="HCM-NOPE"),
        "not an object",
        item(detection_id="a"),
        item(detection_id="c", camera_id="HCM-Q1-00043", kind="fire", label=None),
        item(detection_id=7),
    ]
    valid, rejected = validate_batch(items, KNOWN, NOW)
    assert [d.detection_id for d in valid] == ["a", "c"]
    assert [(r["index"], r["detection_id"]) for r in rejected] == [(1, "b"), (2, None), (3, "a"), (5, None)]
    assert "unknown camera" in rejected[0]["reason"]
    assert rejected[2]["reason"] == "duplicate detection_id within the batch (first at index 0)"


def test_a_repeated_id_after_an_invalid_first_is_not_a_duplicate() -> None:
    valid, rejected = validate_batch([item(detection_id="a", kind="dog"), item(detection_id="a")], KNOWN, NOW)
    assert [d.detection_id for d in valid] == ["a"] and [r["index"] for r in rejected] == [0]


def test_an_oversized_item_in_a_batch_is_rejected_alone() -> None:
    big = item(detection_id="big", attributes={"blob": "x" * MAX_ITEM_BYTES})
    valid, rejected = validate_batch([big, item(detection_id="ok")], KNOWN, NOW)
    assert [d.detection_id for d in valid] == ["ok"]
    assert rejected[0]["detection_id"] == "big" and "bytes; at most" in rejected[0]["reason"]


def test_camera_ids_collects_only_strings() -> None:
    assert camera_ids([item(), {"camera_id": 5}, "x", item(camera_id="B")]) == {"HCM-Q1-00042", "B"}
