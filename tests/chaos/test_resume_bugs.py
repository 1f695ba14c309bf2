"""Reproductions of the resume bugs the chaos suite found, kept as regression tests of the hub's fix."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient, TestServer

from dispatch import app as app_module
from dispatch.app import create_app
from dispatch.calls import pipeline
from dispatch.context import HUB
from dispatch.listener import Listener
from dispatch.settings import Settings
from dispatch.storage import calls as call_store
from dispatch.storage import db as storage_db
from dispatch.storage import events as event_store
from tests.integration.conftest import bearer
from tests.integration.helpers import call_body, console, post

Client = TestClient[Any, Any]


class Latch:
    """Holds the next stored call right after its statement (before or after COMMIT) until `gate` is set."""

    def __init__(self, before_commit: bool) -> None:
        self.before_commit = before_commit
        self.armed = False
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def hold(self) -> None:
        if self.armed:
            self.armed = False
            self.entered.set()
            await self.gate.wait()


def _patch(monkeypatch: pytest.MonkeyPatch, latch: Latch) -> None:
    real_open, real_connection = call_store.open_call, storage_db.connection

    async def open_call(*args: Any) -> Any:
        event = await real_open(*args)
        await latch.hold()
        return event

    @contextlib.asynccontextmanager
    async def in_transaction(pool: Any) -> AsyncIterator[Any]:
        # The service's one statement commits by itself; an enclosing transaction lets the latch hold the
        # COMMIT back (with the event-order lock taken) while the next call comes in.
        async with real_connection(pool) as conn, conn.transaction():
            yield conn

    monkeypatch.setattr(call_store, "open_call", open_call)
    if latch.before_commit:
        monkeypatch.setattr(pipeline, "connection", in_transaction)


@contextlib.asynccontextmanager
async def _instance(settings: Settings) -> AsyncIterator[Client]:
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


async def _frames(ws: ClientWebSocketResponse, seconds: float = 1.5) -> list[dict[str, Any]]:
    """Every frame but heartbeats received within `seconds`."""
    frames: list[dict[str, Any]] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            async for message in ws:
                frame = json.loads(message.data)
                if frame["type"] != "heartbeat":
                    frames.append(frame)
    return frames


def _opened(frames: list[dict[str, Any]]) -> list[str]:
    return [f["incident"]["call_id"] for f in frames if f["type"] == "incident.opened"]


async def test_events_reach_consoles_in_id_order_so_a_fresh_instance_resume_misses_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: a call committed after a later one kept the lower event id, and `after_event_id` skipped it.
    latch = Latch(before_commit=True)
    _patch(monkeypatch, latch)
    headers = bearer("police")
    async with _instance(settings) as first, _instance(settings) as fresh:
        ws = await console(first, "police", headers=headers)
        latch.armed = True
        slow = asyncio.create_task(post(first, "/v1/calls", call_body("113-SLOW")))
        await latch.entered.wait()  # SLOW has written its event, not yet committed
        fast = asyncio.create_task(post(first, "/v1/calls", call_body("113-FAST")))
        await asyncio.sleep(0.5)
        latch.gate.set()
        assert ((await slow).status, (await fast).status) == (201, 201)
        frames = await _frames(ws)
        assert _opened(frames) == ["113-SLOW", "113-FAST"]
        assert int(frames[0]["event_id"]) < int(frames[1]["event_id"])
        await ws.close()
        ws = await fresh.ws_connect("/v1/consoles/ws", headers=headers)
        assert (await _frames(ws, 0.5))[0]["type"] == "hello"
        seen = frames[0]
        await ws.send_json(
            {"type": "resume", "after_seq": seen["seq"], "after_event_id": int(seen["event_id"])}
        )
        assert _opened(await _frames(ws)) == ["113-FAST"]


def _slow_notify(monkeypatch: pytest.MonkeyPatch, delay_s: float) -> None:
    """Event NOTIFYs reach the hub `delay_s` late, as on a busy loop or while the listener reconnects."""
    real = Listener

    def listener(dsn: str, channels: dict[str, Any], *hooks: Any) -> Any:
        def late(callback: Any) -> Any:
            return lambda *notified: asyncio.get_running_loop().call_later(delay_s, callback, *notified)

        delayed = {name: late(cb) if name == event_store.CHANNEL else cb for name, cb in channels.items()}
        return real(dsn, delayed, *hooks)

    monkeypatch.setattr(app_module, "Listener", listener)


async def test_replay_on_a_fresh_instance_does_not_repeat_a_late_local_event(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    latch = Latch(before_commit=False)
    _patch(monkeypatch, latch)
    _slow_notify(monkeypatch, 3.0)
    async with _instance(settings) as fresh:
        latch.armed = True
        late = asyncio.create_task(post(fresh, "/v1/calls", call_body("113-LATE")))
        await latch.entered.wait()  # committed, not yet published
        ws = await fresh.ws_connect("/v1/consoles/ws", headers=bearer("police"))
        assert (await _frames(ws, 0.5))[0]["type"] == "hello"
        await ws.send_json({"type": "resume", "after_seq": 3, "after_event_id": 0})
        await asyncio.sleep(0.5)
        latch.gate.set()
        assert (await late).status == 201
        assert _opened(await _frames(ws)) == ["113-LATE"]


async def test_resume_on_a_fresh_instance_under_load_replays_instead_of_reset(settings: Settings) -> None:
    async with _instance(settings) as fresh:
        for call_id in ("113-MISSED-1", "113-MISSED-2"):
            assert (await post(fresh, "/v1/calls", call_body(call_id))).status == 201
        ws = await console(fresh, "police")
        assert (await post(fresh, "/v1/calls", call_body("113-LIVE"))).status == 201
        await asyncio.sleep(0.2)  # the live event reaches the console before its resume message
        await ws.send_json({"type": "resume", "after_seq": 7, "after_event_id": 0})
        frames = await _frames(ws)
        assert "reset" not in [f["type"] for f in frames]
        assert sorted(set(_opened(frames))) == ["113-LIVE", "113-MISSED-1", "113-MISSED-2"]


async def _seen_then_gone(client: Client, headers: dict[str, str]) -> dict[str, Any]:
    """A police console that receives one call, 113-SEEN, and leaves: its frame."""
    ws = await console(client, "police", headers=headers)
    assert (await post(client, "/v1/calls", call_body("113-SEEN"))).status == 201
    [seen] = await _frames(ws)
    await ws.close()
    return seen


async def test_resume_on_the_same_instance_does_not_repeat_live_events(settings: Settings) -> None:
    headers = bearer("police")
    async with _instance(settings) as client:
        seen = await _seen_then_gone(client, headers)
        ws = await console(client, "police", headers=headers)
        assert (await post(client, "/v1/calls", call_body("113-LIVE"))).status == 201
        await asyncio.sleep(0.2)
        await ws.send_json(
            {"type": "resume", "after_seq": seen["seq"], "after_event_id": int(seen["event_id"])}
        )
        assert _opened(await _frames(ws)) == ["113-LIVE"]


async def test_resume_longer_than_the_queue_loses_nothing(settings: Settings) -> None:
    headers = bearer("police")
    async with _instance(settings.model_copy(update={"console_buffer_bytes": 1024})) as client:
        ws = await console(client, "police", headers=headers)
        await ws.close()
        for n in range(10):
            assert (await post(client, "/v1/calls", call_body(f"113-MISSED-{n}"))).status == 201
        ws = await console(client, "police", headers=headers)
        await ws.send_json({"type": "resume", "after_seq": 0})
        frames = await _frames(ws)
        assert len(set(_opened(frames))) == 10 or "reset" in [f["type"] for f in frames]


async def test_catch_up_publishes_an_event_whose_notify_was_lost_after_a_later_local_one(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: the catch-up after LISTEN reconnected started after the newest event published here, which this
    # instance's own later call had moved past another instance's event whose NOTIFY the cut connection lost.
    _slow_notify(monkeypatch, 3600.0)
    async with _instance(settings) as here, _instance(settings) as there:
        ws = await console(here, "police")
        assert (await post(there, "/v1/calls", call_body("113-THERE"))).status == 201
        assert (await post(here, "/v1/calls", call_body("113-HERE"))).status == 201
        assert _opened(await _frames(ws)) == ["113-HERE"]
        assert await here.app[HUB].catch_up() == 1
        assert _opened(await _frames(ws)) == ["113-THERE"]


async def test_a_resume_read_after_the_hold_ended_still_gets_the_gap_once(settings: Settings) -> None:
    # Was: on a busy loop the hold's timer fired before the resume was read, live delivery started at hello,
    # and the late resume sent nothing, so the events missed before hello were lost.
    headers = bearer("police")
    async with _instance(settings) as client:
        seen = await _seen_then_gone(client, headers)
        for call_id in ("113-GAP-1", "113-GAP-2"):
            assert (await post(client, "/v1/calls", call_body(call_id))).status == 201
        ws = await console(client, "police", headers=headers)
        await asyncio.sleep(1.5)  # the hold ends with no resume: live from hello on
        assert (await post(client, "/v1/calls", call_body("113-LIVE"))).status == 201
        assert _opened(await _frames(ws, 0.5)) == ["113-LIVE"]
        await ws.send_json({"type": "resume", "after_seq": seen["seq"]})
        frames = await _frames(ws)
        assert _opened(frames) == ["113-GAP-1", "113-GAP-2"]
        assert [f["seq"] for f in frames] == [seen["seq"] + 1, seen["seq"] + 2]


async def test_a_late_resume_whose_gap_is_gone_gets_reset(settings: Settings) -> None:
    headers = bearer("police")
    async with _instance(settings) as client:
        ws = await console(client, "police", headers=headers)
        await asyncio.sleep(1.5)
        await ws.send_json({"type": "resume", "after_seq": 0, "after_event_id": 12})
        assert [f["type"] for f in await _frames(ws, 0.5)] == ["reset"]


def _audited_replays(database_url: str, actor: str) -> list[Any]:
    with psycopg.connect(database_url) as conn:
        query = "SELECT subject FROM audit WHERE actor = %s AND subject ? 'replay'"
        return conn.execute(query, (actor,)).fetchall()


async def _replay_rows(database_url: str, actor: str) -> list[Any]:
    """One console's replay audit rows, read again a moment after the first appear: the auditor flushes in
    the background, and rows of a split replay could land in separate flushes."""
    for _ in range(50):
        if _audited_replays(database_url, actor):
            await asyncio.sleep(0.5)
            break
        await asyncio.sleep(0.1)
    return _audited_replays(database_url, actor)


async def test_a_replay_is_audited_in_one_row_per_kind_not_one_per_event(
    settings: Settings, database_url: str
) -> None:
    # Was: a row per replayed event; 50 supervisors resuming 5,000 events each overflowed the audit queue.
    headers = bearer("supervisor", name="desk-replay")
    async with _instance(settings) as client:
        ws = await console(client, "supervisor", headers=headers)
        await asyncio.sleep(1.2)  # past the hold: the stream is live, so a resume replays from memory
        await ws.close()
        calls = [f"11{3 + n % 3}-REPLAY-{n}" for n in range(6)]
        for call_id in calls:
            assert (await post(client, "/v1/calls", call_body(call_id, hotline=call_id[:3]))).status == 201
        ws = await console(client, "supervisor", headers=headers)
        await ws.send_json({"type": "resume", "after_seq": 0})
        frames = await _frames(ws)
        assert [f["type"] for f in frames] == ["incident.opened"] * 6, frames
        assert sorted(_opened(frames)) == sorted(calls)
        rows = await _replay_rows(database_url, "desk-replay")
    assert len(rows) == 1
    assert rows[0][0]["event_ids"] == [int(f["event_id"]) for f in frames]
    assert len(rows[0][0]["incidents"]) == 6
