"""The hub decides once per audience what consoles see, and every console still gets exactly its own share."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from aiohttp import web

from dispatch import access
from dispatch.access import Subscription, audience, may_see
from dispatch.audit.writer import Auditor
from dispatch.auth.tokens import Principal
from dispatch.detections.policy import load_policy
from dispatch.hub import Hub
from dispatch.metrics import Metrics
from dispatch.settings import Settings
from dispatch.storage.events import Event
from tests.unit.test_hub_turns import Audit, NoEvents
from tests.unit.test_streams import Socket, Transport

CONSOLES: list[tuple[str, tuple[str, ...], Subscription]] = [
    ("police", (), Subscription()),
    ("police", (), Subscription()),  # the same audience as the first
    ("police", ("A",), Subscription()),
    ("police", ("B",), Subscription()),
    ("police", (), Subscription(areas=frozenset({"B"}))),
    ("fire", (), Subscription()),
    ("fire", ("A",), Subscription()),
    ("medical", (), Subscription()),
    ("supervisor", (), Subscription()),
    ("supervisor", (), Subscription(hotlines=frozenset({"114"}))),
    ("supervisor", ("A",), Subscription(hotlines=frozenset({"113", "115"}))),
]


def principal(n: int, role: str, areas: tuple[str, ...]) -> Principal:
    return Principal(f"{role}-{n}", role, frozenset(areas), f"token-{n}")  # type: ignore[arg-type]


async def test_each_console_gets_what_its_rights_and_filter_allow() -> None:
    hub = Hub(Settings(), Metrics(), NoEvents(), load_policy(), cast(Auditor, Audit()))
    transports = []
    for n, (role, areas, subscription) in enumerate(CONSOLES):
        transport = Transport()
        ws = cast(web.WebSocketResponse, Socket())
        stream, conn = hub.attach(
            principal(n, role, areas), ws, cast(asyncio.Transport, cast(Any, transport))
        )
        stream.subscribe(subscription)
        await hub.resumes.start(stream, conn)
        transports.append(transport)
    kinds = list(itertools.product(("113", "114", "115", None), ("A", "B", None)))
    for event_id, (hotline, area) in enumerate(kinds, 1):
        payload = {"incident": {"call_id": f"call-{event_id}"}, "cameras": [], "detections": []}
        event = Event(event_id, datetime.now(UTC), "incident.opened", uuid.uuid4(), hotline, area, payload)
        hub.publish(event, at_once=True)
    for n, (role, areas, subscription) in enumerate(CONSOLES):
        got = [
            i
            for i in range(1, len(kinds) + 1)
            if any(b'"call_id":"call-%d"' % i in w for w in transports[n].writes)
        ]
        allowed = [
            i
            for i, (hotline, area) in enumerate(kinds, 1)
            if may_see(principal(n, role, areas), subscription, hotline, area)
        ]
        assert got == allowed, (role, areas, subscription)
        assert got  # every console has something to receive: the comparison is not between empty lists


def test_consoles_with_the_same_rights_and_filter_share_an_audience() -> None:
    first, second = principal(1, "police", ("A",)), principal(2, "police", ("A",))
    assert audience(first, Subscription()) is audience(second, Subscription())
    assert audience(first, Subscription()) is not audience(principal(3, "police", ("B",)), Subscription())
    assert audience(first, Subscription()) is not audience(principal(4, "fire", ("A",)), Subscription())
    narrowed = Subscription(hotlines=frozenset({"113"}))
    assert audience(first, narrowed) is not audience(first, Subscription())
    assert audience(first, narrowed) is audience(second, Subscription(hotlines=frozenset({"113"})))


def test_audiences_kept_stay_bounded_however_many_filters_consoles_choose() -> None:
    console = principal(1, "police", ())
    kept = [audience(console, Subscription(areas=frozenset({f"area-{n}"}))) for n in range(5000)]
    assert len(access._AUDIENCES) <= access._KEPT_AUDIENCES
    assert kept[-1] is audience(console, Subscription(areas=frozenset({"area-4999"})))
    assert kept[-1].admits("113", "area-4999") and not kept[-1].admits("113", "area-1")
