"""Detection policy: which agency sees which kinds, what is withheld, and that the unknown sees nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dispatch.detections.model import KINDS
from dispatch.detections.policy import DEFAULT_POLICY, PolicyError, load_policy, visible

POLICY = load_policy()


def detection(kind: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "detection_id": "d1", "camera_id": "HCM-Q1-00042", "detected_at": "2026-11-26T13:14:55Z",
        "kind": kind, "label": "51F-123.45", "confidence": 0.9, "box": [0.1, 0.1, 0.2, 0.2],
        "snapshot_url": "https://gw/s.jpg",
        "attributes": {"color": "white", "watchlist_id": "W-17", "match": [{"Identity": "Nguyen Van A"}]},
    }
    base.update(changes)
    return base


def kinds_seen(role: str) -> set[str]:
    return {kind for kind in KINDS if visible(POLICY, role, detection(kind)) is not None}


def test_default_policy_is_the_one_in_the_interface() -> None:
    assert DEFAULT_POLICY.name == "policy.toml" and DEFAULT_POLICY.exists()
    assert kinds_seen("police") == set(KINDS)
    assert kinds_seen("supervisor") == set(KINDS)
    assert kinds_seen("fire") == {"fire", "smoke", "crowd", "accident", "vehicle", "person"}
    assert kinds_seen("medical") == {"accident", "crowd", "person", "fire", "smoke"}
    assert POLICY.identity_kinds == {"face", "plate"}
    assert {"watchlist_id", "identity", "plate", "sub_label"} <= POLICY.identity_attributes


@pytest.mark.parametrize("role", ["fire", "medical"])
@pytest.mark.parametrize("kind", ["face", "plate"])
def test_faces_and_plates_never_reach_fire_or_medical(role: str, kind: str) -> None:
    assert visible(POLICY, role, detection(kind)) is None


@pytest.mark.parametrize("role", ["admin", "sender", "", "POLICE", "dispatcher"])
def test_unknown_role_sees_nothing(role: str) -> None:
    assert all(visible(POLICY, role, detection(kind)) is None for kind in KINDS)


@pytest.mark.parametrize("kind", ["dog", "", None, "FACE"])
def test_unknown_kind_is_never_delivered(kind: Any) -> None:
    assert visible(POLICY, "police", {**detection("face"), "kind": kind}) is None
    assert visible(POLICY, "supervisor", {"label": "x"}) is None


def test_identity_attributes_are_stripped_at_any_depth_for_agencies_without_identity_rights() -> None:
    seen = visible(POLICY, "fire", detection("vehicle", attributes={
        "color": "white", "Plate": "51F-123.45", "make": {"name": "Honda", "model": "Wave"},
        "tracks": [{"watchlist_id": 3, "speed_kmh": 30}]}))
    assert seen is not None
    assert seen["attributes"] == {"color": "white", "make": {"model": "Wave"}, "tracks": [{"speed_kmh": 30}]}
    assert seen["label"] == "51F-123.45"  # a vehicle's label is its class, not an identity


def test_police_and_supervisors_see_identities_whole() -> None:
    original = detection("face")
    for role in ("police", "supervisor"):
        assert visible(POLICY, role, original) == original


def test_visible_does_not_change_its_input() -> None:
    original = detection("person")
    before = repr(original)
    visible(POLICY, "medical", original)
    assert repr(original) == before


def test_identity_kind_allowed_without_identity_rights_loses_label_and_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('identity_attributes = ["watchlist_id"]\n[agencies.fire]\nkinds = ["face", "fire"]\n'
                    'identities = false\nwithhold = ["attributes"]\n')
    policy = load_policy(path)
    seen = visible(policy, "fire", detection("face"))
    assert seen is not None and seen["label"] is None and seen["snapshot_url"] is None
    assert seen["attributes"] == {}
    fire = visible(policy, "fire", detection("fire"))
    assert fire is not None and fire["label"] == "51F-123.45" and fire["attributes"] == {}
    assert visible(policy, "police", detection("fire")) is None  # not named in this file: nothing


def test_non_object_attributes_are_not_delivered_without_identity_rights() -> None:
    seen = visible(POLICY, "medical", detection("person", attributes=["Nguyen Van A"]))
    assert seen is not None and seen["attributes"] == {}


@pytest.mark.parametrize("text, fault", [
    ('[agencies.fire]\nkinds = ["fire", "dragon"]\n', "dragon"),
    ('[agencies.fire]\nkinds = ["fire"]\nwithhold = ["detection_id"]\n', "detection_id"),
    ('[agencies.fire]\nkinds = ["fire"]\nidentity = true\n', "identity"),
    ('agencies = 3\n', "agencies"),
    ('[agencies.fire\n', "cannot read"),
])
def test_a_bad_policy_file_is_refused_with_the_reason(tmp_path: Path, text: str, fault: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=fault):
        load_policy(path)


def test_a_missing_policy_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "absent.toml")
