"""The console hub: resume, subscribe, areas, heartbeats, slow consoles, and two instances on one database."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient, TestServer
from chaos_suite.consoles import Stalled

from dispatch import streams
from dispatch.app import create_app
from dispatch.context import HUB, METRICS, POOL
from dispatch.settings import Settings
from dispatch.storage import events as event_store
from dispatch.streams import Connection
from tests.integration.conftest import bearer
from tests.integration.helpers import Client, call_body, console, next_frame, post, seed_cameras, silent


async def test_resume_replays_exactly_the_missed_events(client: Client) -> None:
    await seed_cameras(client)
    headers = bearer("police", name="desk-1")
    first = await console(client, "police", headers=headers)
    await post(client, "/v1/calls", call_body("113-R1"))
    seen = await next_frame(first)
    await first.close()
    for call_id in ("113-R2", "113-R3"):
        await post(client, "/v1/calls", call_body(call_id))
    again = await console(client, "police", headers=headers)
    await again.send_json({"type": "resume", "after_seq": seen["seq"]})
    replayed = [await next_frame(again), await next_frame(again)]
    assert [f["incident"]["call_id"] for f in replayed] == ["113-R2", "113-R3"]
    assert [f["seq"] for f in replayed] == [seen["seq"] + 1, seen["seq"] + 2]
    assert await silent(again)
    await post(client, "/v1/calls", call_body("113-R4"))
    live = await next_frame(again)
    assert live["incident"]["call_id"] == "113-R4" and live["seq"] == seen["seq"] + 3


async def back_after_missing(
    client: Client, name: str, calls: int
) -> tuple[ClientWebSocketResponse, int, list[str]]:
    """A console that saw one call, left while `calls` more came and reconnected (not yet resumed): its new
    connection, its last seq and the missed call ids."""
    await seed_cameras(client)
    headers = bearer("police", name=name)
    first = await console(client, "police", headers=headers)
    await post(client, "/v1/calls", call_body(f"{name}-0"))
    seen = await next_frame(first)
    await first.close()
    missed = [f"{name}-{n}" for n in range(1, calls + 1)]
    for call_id in missed:
        await post(client, "/v1/calls", call_body(call_id))
    return await console(client, "police", headers=headers), seen["seq"], missed


async def read_back(ws: ClientWebSocketResponse, last: int, missed: list[str]) -> list[Any]:
    """The frames of the missed calls, which must come in order with the seqs after `last`, not a reset."""
    first = await next_frame(ws)
    assert first["type"] == "incident.opened", first
    frames = [first] + [await next_frame(ws) for _ in missed[1:]]
    numbered = list(zip(range(last + 1, last + len(missed) + 1), missed, strict=True))
    assert [(f["seq"], f["incident"]["call_id"]) for f in frames] == numbered
    return frames


async def test_resume_past_the_kept_events_reads_them_back_numbered_as_sent(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two events kept in full per console: the other four it missed come back from the events table.
    monkeypatch.setattr(streams, "BUFFER", 2)
    again, last, missed = await back_after_missing(client, "desk-far", 6)
    await again.send_json({"type": "resume", "after_seq": last})
    replayed = await read_back(again, last, missed)
    assert all(f["type"] == "incident.opened" and f["cameras"] for f in replayed)
    registry = client.app[METRICS].registry
    assert registry.get_sample_value("callsight_resume_read_back_events_total") == len(missed) - 2
    assert await silent(again)
    await post(client, "/v1/calls", call_body("desk-far-live"))
    assert (await next_frame(again))["seq"] == last + 7


async def test_a_late_resume_past_the_kept_events_gets_the_gap_before_hello_read_back(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Subscribing first ends the hold: live frames flow, and the resume that follows fills the gap before.
    monkeypatch.setattr(streams, "BUFFER", 2)
    again, last, missed = await back_after_missing(client, "desk-late", 5)
    await again.send_json({"type": "subscribe", "hotlines": [], "areas": []})
    await again.send_json({"type": "resume", "after_seq": last})
    await read_back(again, last, missed)
    assert await silent(again)


async def test_resume_past_the_numbered_events_gets_reset(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streams, "BUFFER", 2)
    monkeypatch.setattr(streams, "NUMBERED", 4)
    again, last, _ = await back_after_missing(client, "desk-gone", 6)
    await again.send_json({"type": "resume", "after_seq": last})
    assert (await next_frame(again))["type"] == "reset"


async def test_resume_gets_reset_when_the_events_table_no_longer_has_what_it_missed(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streams, "BUFFER", 2)
    again, last, missed = await back_after_missing(client, "desk-aged", 4)
    async with client.app[POOL].acquire() as conn:
        await conn.execute("DELETE FROM events WHERE payload->'incident'->>'call_id' = $1", missed[0])
    await again.send_json({"type": "resume", "after_seq": last})
    assert (await next_frame(again))["type"] == "reset"


async def test_resume_too_far_back_gets_reset(client: Client) -> None:
    ws = await console(client, "police")
    await ws.send_json({"type": "resume", "after_seq": 999})
    assert (await next_frame(ws))["type"] == "reset"


async def test_subscribe_and_areas_narrow_what_arrives(client: Client) -> None:
    await seed_cameras(client)
    narrow = await console(client, "supervisor")
    await narrow.send_json({"type": "subscribe", "hotlines": ["114"]})
    elsewhere = await console(client, "police", areas=["Phuong Go Vap"])
    here = await console(client, "police", areas=["Phuong Ben Thanh"])
    await asyncio.sleep(0.05)
    await post(client, "/v1/calls", call_body("113-S"))
    await post(client, "/v1/calls", call_body("114-S", hotline="114"))
    assert (await next_frame(here))["incident"]["call_id"] == "113-S"
    assert (await next_frame(narrow))["incident"]["call_id"] == "114-S"
    assert await silent(elsewhere)
    await narrow.send_json({"type": "subscribe", "hotlines": "not a list"})
    assert (await next_frame(narrow))["type"] == "error"


async def test_idle_console_gets_heartbeats(client: Client) -> None:
    ws = await console(client, "medical")
    frame = await next_frame(ws, timeout=5, skip_heartbeats=False)
    assert frame["type"] == "heartbeat" and "seq" in frame


@contextlib.asynccontextmanager
async def _stalled(client: Client) -> AsyncIterator[Stalled]:
    """A real socket that stops reading after the upgrade, with tiny buffers at both ends: kernel buffers
    fill at once, then the service's unsent bytes grow with every frame."""
    stalled = Stalled("stalled")
    await stalled.open(client.server.port or 0, bearer("police", name="stalled")["Authorization"][7:])
    for conn in _connections(client, "stalled"):
        conn.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    try:
        yield stalled
    finally:
        stalled.sock.close()  # or a failed test's server would wait at shutdown for this console's close


def _connections(client: Client, name: str) -> list[Connection]:
    return [c for s in client.app[HUB].streams.values() if s.principal.name == name for c in s.connections]


async def _calls_until_cut_off(client: Client, reader: ClientWebSocketResponse) -> int:
    """Posts calls, each read by `reader`, until the stalled console is cut off; how many were posted."""
    for n in range(1, 301):
        await post(client, "/v1/calls", call_body(f"113-SLOW-{n}", uncertainty_m=80))
        assert (await next_frame(reader))["incident"]["call_id"] == f"113-SLOW-{n}"
        if not _connections(client, "stalled"):
            return n
    return n


@pytest.mark.parametrize(
    "update",
    [
        {"console_buffer_bytes": 64 * 1024},  # its own limit
        # All consoles' budget, while each may keep 8 MB unsent (far more than these calls make).
        {"console_memory_bytes": 64 * 1024, "heartbeat_s": 0.2},
    ],
    ids=["own-limit", "shared-budget"],
)
async def test_console_that_stops_reading_is_cut_off_others_keep_receiving(
    settings: Settings, update: dict[str, object]
) -> None:
    async with TestClient(TestServer(create_app(settings.model_copy(update=update)))) as client:
        await seed_cameras(client)
        async with _stalled(client) as stalled:
            reader = await console(client, "police")
            posted = await _calls_until_cut_off(client, reader)
            assert posted < 300  # cut off: the drain below then ends
            await stalled.drain()
        assert stalled.close_code == 4008
        # What it got before the cut-off is a gap-free start, from which it can resume.
        seqs = [frame.seq for frame in stalled.frames]
        assert seqs == list(range(1, len(seqs) + 1)) and 0 < len(seqs) <= posted
        await post(client, "/v1/calls", call_body("113-AFTER"))
        assert (await next_frame(reader))["incident"]["call_id"] == "113-AFTER"


async def test_consoles_beyond_the_limit_are_refused_with_503(settings: Settings) -> None:
    two = settings.model_copy(update={"max_consoles": 2})
    async with TestClient(TestServer(create_app(two))) as client:
        first, second = await console(client, "police"), await console(client, "fire")
        refused = await client.get("/v1/consoles/ws", headers=bearer("medical"))
        assert refused.status == 503 and refused.headers["Retry-After"]
        assert (await refused.json())["status"] == 503
        await first.close()
        for _ in range(250):  # the handler detaches the closed console once it has seen the close
            if client.app[HUB].connected < 2:
                break
            await asyncio.sleep(0.02)
        third = await console(client, "medical")
        assert not third.closed and not second.closed


async def test_two_instances_share_events(settings: Settings) -> None:
    async with (
        TestClient(TestServer(create_app(settings))) as a,
        TestClient(TestServer(create_app(settings))) as b,
    ):
        await seed_cameras(a)
        on_b = await console(b, "police")
        await asyncio.sleep(0.2)
        assert (await post(a, "/v1/calls", call_body("113-X"))).status == 201
        frame = await next_frame(on_b)
        assert frame["incident"]["call_id"] == "113-X"
        assert frame["cameras"] and frame["cameras"][0]["camera_id"] == "EAST-LOOKING"


async def test_an_event_this_instance_stored_but_did_not_publish_still_arrives(client: Client) -> None:
    # Its own NOTIFYs are not read back at once (the storing request publishes), only if still unpublished
    # a moment later: an event committed by a request that died before publishing must not be lost.
    police = await console(client, "police")
    async with client.app[POOL].acquire() as conn, conn.transaction():
        stored = await event_store.append(
            conn, "incident.closed", uuid.uuid4(), "113", None, {"incident": {"call_id": "113-ORPHAN"}}
        )
    frame = await next_frame(police, timeout=5)
    assert frame["type"] == "incident.closed" and frame["event_id"] == str(stored.event_id)
    assert frame["incident"]["call_id"] == "113-ORPHAN"
