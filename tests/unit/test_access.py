"""The routing decision is pure and fails closed."""

from __future__ import annotations

from dispatch.access import Subscription, may_see
from dispatch.auth.tokens import Principal

ALL = Subscription()


def who(role: str, areas: tuple[str, ...] = ()) -> Principal:
    return Principal(name=role, role=role, areas=frozenset(areas))  # type: ignore[arg-type]


def test_hotline_routing() -> None:
    expected = {"police": "113", "fire": "114", "medical": "115"}
    for role, hotline in expected.items():
        for other in ("113", "114", "115"):
            assert may_see(who(role), ALL, other, "A") == (other == hotline)
    assert all(may_see(who("supervisor"), ALL, h, "A") for h in ("113", "114", "115"))
    assert not may_see(who("admin"), ALL, "113", "A")


def test_unknown_is_no() -> None:
    assert not may_see(who("police"), ALL, None, "A")
    assert not may_see(who("police", ("A",)), ALL, "113", None)
    assert not may_see(Principal("tel", "sender"), ALL, "113", "A")


def test_areas_and_subscription() -> None:
    assert may_see(who("police", ("A",)), ALL, "113", "A")
    assert not may_see(who("police", ("A",)), ALL, "113", "B")
    assert not may_see(who("supervisor"), Subscription(frozenset({"114"})), "113", "A")
    assert not may_see(who("supervisor"), Subscription(areas=frozenset({"B"})), "113", "A")
