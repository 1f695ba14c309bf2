"""Frigate `frigate/events` messages (captured-style files) mapped to detections, and everything dropped."""

from __future__ import annotations

import ast
import copy
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.detections import frigate
from dispatch.detections.frigate import (
    FrigateConfig,
    FrigateError,
    FrigateMapper,
    UnknownCamera,
    decode,
    parse_cameras,
    parse_frame,
    to_detection,
)
from dispatch.detections.model import DetectionIn

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "frigate"
CAMERAS = {"ben_thanh_gate": "HCM-Q1-00042", "nguyen_hue_north": "HCM-Q1-00043",
           "ham_nghi_lpr": "HCM-Q1-00044"}
CONFIG = FrigateConfig(CAMERAS)
START = datetime(2026, 11, 26, 13, 14, 55, 475377, tzinfo=UTC)


def payload(name: str) -> dict[str, Any]:
    message: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return message


def mapped(name: str, config: FrigateConfig = CONFIG) -> DetectionIn:
    detection, _ = to_detection(payload(name), config)
    return detection


def test_a_new_person_becomes_a_detection_with_fractions_of_a_1080p_frame() -> None:
    detection, ended = to_detection(payload("person_new"), CONFIG)
    assert not ended
    assert detection.model_dump() == {
        "detection_id": "frigate-1795698895.475377-mxklsc", "camera_id": "HCM-Q1-00042",
        "detected_at": START, "kind": "person", "label": "person", "confidence": 0.7890625,
        "box": pytest.approx((424 / 1920, 500 / 1080, 112 / 1920, 212 / 1080)), "snapshot_url": None,
        "attributes": {"source": "frigate", "frigate_camera": "ben_thanh_gate", "object": "person",
                       "zones": []},
    }


def test_new_update_end_are_one_detection_with_the_top_score() -> None:
    new, update = mapped("person_new"), mapped("person_update")
    end, ended = to_detection(payload("person_end"), CONFIG)
    assert new.detection_id == update.detection_id == end.detection_id
    assert new.detected_at == update.detected_at == end.detected_at == START
    # The current score fell to 0.816 but the confidence is the best the event reached.
    assert (update.confidence, update.attributes["zones"]) == (0.958984375, ["le_loi_crossing"])
    assert update.box == pytest.approx((610 / 1920, 480 / 1080, 138 / 1920, 310 / 1080))
    # Ending changes nothing we store, so storing the end writes nothing and announces nothing.
    assert ended and end == update


def test_a_read_plate_on_a_car_is_a_plate_with_its_text() -> None:
    car = mapped("car_plate")
    assert (car.kind, car.label, car.camera_id) == ("plate", "51F-123.45", "HCM-Q1-00043")
    assert car.attributes["object"] == "car" and car.attributes["plate_score"] == 0.933451
    before = to_detection({**payload("car_plate"), "after": None}, CONFIG)[0]
    assert (before.kind, before.label) == ("vehicle", "car")  # not read yet: a vehicle


def test_a_license_plate_object_is_a_plate_read_or_not() -> None:
    read, unread = mapped("license_plate"), mapped("license_plate_unread")
    assert (read.kind, read.label, read.attributes["plate_score"]) == ("plate", "59C1-234.56", 0.912)
    assert (unread.kind, unread.label) == ("plate", None) and "plate_score" not in unread.attributes


def test_a_recognised_face_on_a_person_is_a_face_with_the_identity() -> None:
    face = mapped("face_person")
    assert (face.kind, face.label) == ("face", "watchlist-0017")
    assert face.attributes["identity"] == "watchlist-0017" and face.attributes["identity_score"] == 0.912
    before = to_detection({**payload("face_person"), "after": {}}, CONFIG)[0]
    assert (before.kind, before.label, before.detection_id) == ("person", "person", face.detection_id)


def test_a_face_object_from_frigate_0_13_with_a_plain_sub_label() -> None:
    face = mapped("face_label_v013")
    assert (face.kind, face.label) == ("face", "Tran Thi B")
    assert face.attributes["identity"] == "Tran Thi B" and face.attributes["identity_score"] is None
    nameless = copy.deepcopy(payload("face_label_v013"))
    nameless["after"]["sub_label"] = ""
    assert to_detection(nameless, CONFIG)[0].model_dump(include={"kind", "label"}) == {"kind": "face",
                                                                                      "label": None}


@pytest.mark.parametrize(("name", "kind", "label"), [
    ("fire", "fire", "fire"), ("smoke", "smoke", "smoke"), ("dog", "other", "dog")])
def test_fire_smoke_and_labels_we_have_no_kind_for(name: str, kind: str, label: str) -> None:
    detection = mapped(name)
    assert (detection.kind, detection.label, detection.attributes["object"]) == (kind, label, label)


@pytest.mark.parametrize("label", ["car", "truck", "motorcycle", "bicycle", "bus"])
def test_vehicles(label: str) -> None:
    message = payload("dog")
    message["after"]["label"] = label
    assert to_detection(message, CONFIG)[0].kind == "vehicle"


def test_other_sub_labels_are_kept_as_an_attribute_the_policy_can_withhold() -> None:
    message = payload("dog")
    message["after"]["sub_label"] = ["Milu", 0.7]
    detection = to_detection(message, CONFIG)[0]
    assert (detection.kind, detection.attributes["sub_label"]) == ("other", "Milu")


def test_region_past_the_configured_frame_grows_it_and_a_configured_size_is_used() -> None:
    # Configured as 1920x1080, but Frigate's region reaches x=2560, y=1340: the frame is at least that.
    grown = mapped("bus_wide_frame")
    assert grown.box == pytest.approx((2200 / 2560, 900 / 1340, 300 / 2560, 400 / 1340))
    sized = FrigateConfig(CAMERAS, {"ham_nghi_lpr": (2560, 1440)})
    exact = (2200 / 2560, 900 / 1440, 300 / 2560, 400 / 1440)
    assert mapped("bus_wide_frame", sized).box == pytest.approx(exact)


def test_a_box_on_the_frame_edge_stays_inside_the_unit_square() -> None:
    message = payload("dog")
    message["after"].update(box=[-3, 0, 1920, 1080], region=None)
    box = to_detection(message, CONFIG)[0].box
    assert box is not None and box[0] == 0 and box[0] + box[2] <= 1 and box[1] + box[3] <= 1


def test_snapshot_link_when_frigate_has_a_snapshot_and_its_address_is_configured() -> None:
    config = FrigateConfig(CAMERAS, snapshot_base="http://frigate.local:5000/")
    assert mapped("fire", config).snapshot_url == (
        "http://frigate.local:5000/api/events/1795699004.500912-fr3xq1/snapshot.jpg")
    message = payload("fire")
    message["after"]["has_snapshot"] = False
    assert to_detection(message, config)[0].snapshot_url is None


def test_an_unmapped_camera_is_dropped_counted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(UnknownCamera) as raised:
        to_detection(payload("unknown_camera"), CONFIG)
    assert raised.value.camera == "back_garage"
    mapper = FrigateMapper(CONFIG)
    raw = (PAYLOADS / "unknown_camera.json").read_bytes()
    with caplog.at_level(logging.WARNING, logger=frigate.__name__):
        assert mapper.feed(raw) is None and mapper.feed(raw) is None
    assert mapper.stats.unknown == {"back_garage": 2} and mapper.stats.invalid == 0
    assert [r.message for r in caplog.records if "back_garage" in r.message] != []
    assert len(caplog.records) == 1


def _without(key: str) -> Any:
    return lambda m: m["after"].pop(key)


BROKEN: dict[str, Any] = {
    "unknown type": lambda m: m.update(type="bogus"),
    "no state": lambda m: m.update(before=None, after=None),
    "no camera": _without("camera"),
    "no id": _without("id"),
    "label not text": lambda m: m["after"].update(label=7),
    "no start time": _without("start_time"),
    "start time as text": lambda m: m["after"].update(start_time="2026-11-26T13:14:55Z"),
    "start time too far": lambda m: m["after"].update(start_time=1e300),
    "no score": lambda m: [m["after"].pop("top_score"), m["after"].pop("score")],
    "score above one": lambda m: m["after"].update(top_score=1.5),
    "box of three": lambda m: m["after"].update(box=[1, 2, 3]),
    "box backwards": lambda m: m["after"].update(box=[500, 500, 400, 600]),
    "box with text": lambda m: m["after"].update(box=[1, 2, "3", 4]),
    "id too long": lambda m: m["after"].update(id="x" * 200),
    "NUL in label": lambda m: m["after"].update(recognized_license_plate="51F\x00"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_message_is_a_frigate_error_and_the_mapper_skips_it(name: str) -> None:
    message = payload("person_update")
    BROKEN[name](message)
    with pytest.raises(FrigateError):
        to_detection(message, CONFIG)
    mapper = FrigateMapper(CONFIG)
    assert mapper.feed(json.dumps(message).encode()) is None
    assert (mapper.stats.messages, mapper.stats.invalid, mapper.stats.mapped) == (1, 1, 0)


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1, 2]", b"\xff\xfe", "null", 42, None])
def test_payloads_that_are_not_a_json_object(raw: object) -> None:
    with pytest.raises(FrigateError):
        decode(raw)
    assert FrigateMapper(CONFIG).feed(raw) is None


def test_the_mapper_counts_what_it_maps() -> None:
    mapper = FrigateMapper(CONFIG)
    result = mapper.feed((PAYLOADS / "person_end.json").read_bytes())
    assert result is not None and result[1] is True
    assert (mapper.stats.messages, mapper.stats.mapped) == (1, 1)


JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
KEYS = sorted(payload("face_person")["after"])


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(KEYS), value=JSON, kind=st.sampled_from(["new", "update", "end"]))
def test_any_field_set_to_any_json_is_mapped_or_skipped_never_raised(key: str, value: Any, kind: str) -> None:
    message = payload("face_person")
    message["type"], message["after"][key] = kind, value
    result = FrigateMapper(CONFIG).feed(json.dumps(message))
    assert result is None or isinstance(result[0], DetectionIn)


@settings(max_examples=200, deadline=None)
@given(message=JSON)
def test_any_json_at_all_is_skipped_without_raising(message: Any) -> None:
    assert FrigateMapper(CONFIG).feed(json.dumps(message)) is None


def test_camera_mapping_and_frame_size_settings() -> None:
    text = " ben_thanh_gate = HCM-Q1-00042@1280x720 , nguyen_hue_north=HCM-Q1-00043,"
    assert parse_cameras(text) == ({"ben_thanh_gate": "HCM-Q1-00042", "nguyen_hue_north": "HCM-Q1-00043"},
                                   {"ben_thanh_gate": (1280, 720)})
    assert parse_cameras("") == ({}, {})
    assert parse_frame("3840X2160") == (3840, 2160)


@pytest.mark.parametrize("text", ["gate", "=HCM-1", "gate=", "gate=HCM-1@big", "a=B,a=C", "gate=HCM-1@0x720"])
def test_wrong_camera_mappings_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"Frigate camera|frame size"):
        parse_cameras(text)


def test_the_mapping_module_does_no_io() -> None:
    tree = ast.parse(Path(frigate.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported & {"asyncio", "aiohttp", "asyncpg", "aiomqtt", "socket", "os"} == set()
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef | ast.Await)]
