"""The hub sends an event at once when asked, and otherwise the events of one loop turn in one send each."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from aiohttp import web

from dispatch.audit.writer import Auditor
from dispatch.auth.tokens import Principal
from dispatch.detections.policy import load_policy
from dispatch.hub import Hub
from dispatch.metrics import Metrics
from dispatch.settings import Settings
from dispatch.storage.events import Event
from tests.unit.test_streams import Socket, Transport


class Audit:
    def record(self, *args: Any, **kwargs: Any) -> None:
        pass


class NoEvents:
    """An events table with nothing in it."""

    async def after(self, event_id: int, not_before: datetime) -> list[Event]:
        return []

    async def by_ids(self, event_ids: list[int], not_before: datetime) -> list[Event]:
        return []


def event(event_id: int) -> Event:
    payload = {"incident": {"call_id": f"113-{event_id}"}, "cameras": [], "detections": []}
    return Event(event_id, datetime.now(UTC), "incident.opened", uuid.uuid4(), "113", None, payload)


async def hub_with_consoles(count: int) -> tuple[Hub, list[Transport]]:
    hub = Hub(Settings(), Metrics(), NoEvents(), load_policy(), cast(Auditor, Audit()))
    transports = []
    for n in range(count):
        transport = Transport()
        principal = Principal(f"police-{n}", "police", frozenset(), f"token-{n}")
        ws = cast(web.WebSocketResponse, Socket())
        stream, conn = hub.attach(principal, ws, cast(asyncio.Transport, cast(Any, transport)))
        await hub.resumes.start(stream, conn)  # as a console that subscribed: live frames from now on
        transports.append(transport)
    return hub, transports


def sends(transports: list[Transport]) -> list[int]:
    return [len(t.writes) for t in transports]


async def test_an_event_at_once_goes_out_before_the_turn_ends() -> None:
    hub, transports = await hub_with_consoles(2)
    assert sends(transports) == [1, 1]  # hello
    hub.publish(event(1), at_once=True)
    assert sends(transports) == [2, 2]
    assert all(b'"call_id":"113-1"' in t.writes[1] for t in transports)


async def test_the_events_of_one_turn_share_one_send_per_console() -> None:
    hub, transports = await hub_with_consoles(2)
    for event_id in (1, 2, 3):
        hub.publish(event(event_id))
    assert sends(transports) == [1, 1]  # kept back until the turn ends
    await asyncio.sleep(0)
    assert sends(transports) == [2, 2]
    for transport in transports:
        burst = transport.writes[1]
        seqs = [burst.index(b'"seq":%d,' % seq) for seq in (1, 2, 3)]
        calls = [burst.index(b'"call_id":"113-%d"' % seq) for seq in (1, 2, 3)]
        assert seqs == sorted(seqs) and calls == sorted(calls)


async def test_an_event_at_once_waits_behind_frames_kept_back_in_the_same_turn() -> None:
    hub, transports = await hub_with_consoles(1)
    hub.publish(event(1))
    hub.publish(event(2), at_once=True)
    assert sends(transports) == [1]  # sent alone it would overtake seq 1
    await asyncio.sleep(0)
    burst = transports[0].writes[1]
    assert burst.index(b'"call_id":"113-1"') < burst.index(b'"call_id":"113-2"')


async def test_after_writes_waits_for_frames_kept_back_and_not_otherwise() -> None:
    hub, transports = await hub_with_consoles(1)
    seen: list[int] = []
    hub.publish(event(1), at_once=True)
    hub.after_writes(lambda: seen.append(len(transports[0].writes)))
    assert seen == [2]  # nothing kept back: at once
    hub.publish(event(2))
    hub.after_writes(lambda: seen.append(len(transports[0].writes)))
    assert seen == [2]
    await asyncio.sleep(0)
    assert seen == [2, 3]  # after the kept-back frame was written
