"""A console's recent window: consecutive seqs over a ring of event ids, each event kept once for all."""

from __future__ import annotations

import asyncio
import gc
import uuid
from dataclasses import replace
from typing import cast

from asyncpg.pgproto import pgproto

from dispatch.auth.tokens import Principal
from dispatch.hub import SEEN, SeenIds
from dispatch.kept import DECODED, KeptEvents
from dispatch.storage.events import Event
from dispatch.streams import BUFFER, NUMBERED, Stream
from tests.unit.test_hub_turns import event, hub_with_consoles
from tests.unit.test_streams import Socket


def stream(kept: KeptEvents, name: str = "police-1") -> Stream:
    return Stream(Principal(name, "police", frozenset(), f"token-{name}"), fresh=False, kept=kept)


def ids(items: list[tuple[int, Event]]) -> list[tuple[int, int]]:
    return [(seq, e.event_id) for seq, e in items]


def test_seqs_count_up_and_each_names_its_event() -> None:
    window = stream(KeptEvents())
    assert [window.record(event(n)) for n in (10, 12, 11)] == [1, 2, 3]
    assert ids(window.since(1)) == [(2, 12), (3, 11)]
    assert window.holds(0) and window.holds(3) and not window.holds(4)


def test_an_event_a_resume_recorded_ahead_of_the_hub_is_not_recorded_again() -> None:
    window = stream(KeptEvents())
    for event_id in (5, 6):
        window.record(event(event_id))
        window.recorded_ahead(event_id)  # read from the events table before the hub published it here
    assert window.record(event(5)) is None  # the hub's publish of it, later
    window.settle_ahead(lambda event_id: event_id == 6)  # published meanwhile (this stream did not want it)
    assert window.record(event(6)) == 3 and window.record(event(7)) == 4
    assert ids(window.since(0)) == [(1, 5), (2, 6), (3, 6), (4, 7)]


async def test_the_hub_delivers_an_event_once_however_often_it_is_published() -> None:
    hub, transports = await hub_with_consoles(2)
    for event_id in (5, 6, 5, 6, 5):  # announced locally and by NOTIFY, and read again by a catch-up
        hub.publish(event(event_id), at_once=True)
    for transport in transports:
        assert [b'"event_id":"5"' in w for w in transport.writes[1:]] == [True, False]
    assert [stream.seq for stream in hub.streams.values()] == [2, 2]


def test_the_ids_seen_are_the_last_of_their_slots() -> None:
    seen = SeenIds()
    assert -1 not in seen and 0 not in seen  # degraded events count down from -1
    seen.add(7)
    assert 7 in seen and 8 not in seen
    seen.add(7 + SEEN)  # SEEN ids on: the slot is the newer id's now
    assert 7 + SEEN in seen and 7 not in seen


async def test_an_event_further_back_than_the_seen_ids_reach_counts_as_published_once_announced() -> None:
    hub, _ = await hub_with_consoles(1)
    hub.publish(event(7), at_once=True)
    hub.publish(event(7 + SEEN), at_once=True)  # its slot now names the newer event
    assert 7 not in hub.seen and not hub.published(7)  # not announced: a catch-up may still bring it
    hub.confirm(7 + SEEN)
    assert hub.published(7) and not hub.published(8)  # 8 was never published, and is within reach
    window = stream(KeptEvents())
    window.record(event(7))
    window.recorded_ahead(7)  # a resume's mark for it settles instead of staying for good
    window.settle_ahead(hub.published)
    assert window.record(event(7)) == 2


def test_past_the_buffer_the_oldest_leave_and_seqs_still_match_their_events() -> None:
    kept = KeptEvents()
    window = stream(kept)
    for n in range(1, BUFFER + 4):
        window.record(event(1000 + n))
    assert window.seq == BUFFER + 3
    assert not window.holds(2) and window.holds(3)
    assert ids(window.since(BUFFER + 1)) == [(BUFFER + 2, 1000 + BUFFER + 2), (BUFFER + 3, 1000 + BUFFER + 3)]
    assert ids(window.since(0))[0] == (4, 1004)  # everything still kept, from the oldest
    assert len(kept) == BUFFER


def test_past_the_kept_events_their_ids_stay_numbered_for_a_read_back() -> None:
    kept = KeptEvents()
    window = stream(kept)
    for n in range(1, BUFFER + 6):
        window.record(event(1000 + n))
    assert not window.holds(4) and window.holds(5) and window.numbers(0)
    assert window.forgotten(0, 10) == [(n, 1000 + n) for n in range(1, 6)]
    assert window.forgotten(2, 2) == [(3, 1003), (4, 1004)]
    assert window.forgotten(5, 10) == [] and len(kept) == BUFFER
    for n in range(BUFFER + 6, NUMBERED + 3):
        window.record(event(1000 + n))
    assert not window.numbers(1) and window.numbers(2)
    assert window.forgotten(0, 2) == [(3, 1003), (4, 1004)]  # the oldest numbers left
    assert ids(window.since(window.seq - 1)) == [(window.seq, 1000 + window.seq)] and len(kept) == BUFFER


def test_an_event_is_kept_until_the_last_console_holding_it_lets_go() -> None:
    kept = KeptEvents()
    first, second = stream(kept, "a"), stream(kept, "b")
    shared = event(7)
    first.record(shared)
    second.record(shared)
    second.record(event(8))
    first.drop()
    assert len(kept) == 2 and ids(second.since(0)) == [(1, 7), (2, 8)]
    second.drop()
    assert len(kept) == 0
    assert first.record(event(9)) is None  # a dropped stream is routed nothing


def test_numbering_on_after_another_instance_forgets_what_it_cannot_number() -> None:
    kept = KeptEvents()
    window = stream(kept)
    window.record(event(1))
    window.continue_after(40)
    assert len(kept) == 0 and window.holds(40) and not window.holds(39)
    assert window.record(event(2)) == 41
    assert ids(window.since(40)) == [(41, 2)]
    window.continue_after(12)  # behind: nothing changes
    assert window.seq == 41 and ids(window.since(0)) == [(41, 2)]


def test_consoles_hold_nothing_the_collector_walks() -> None:
    # Neither the consoles nor the kept events add objects for a full collection to walk, however many
    # consoles got them: 100 events with nested payloads, held by 50 consoles.
    kept = KeptEvents()
    windows = [stream(kept, f"console-{n}") for n in range(50)]
    before = len(gc.get_objects())
    for n in range(100):
        shared = detailed(n)
        for window in windows:
            window.record(shared)
    del shared
    assert len(kept) == 100 and len(gc.get_objects()) - before < 10


def test_a_kept_event_reads_back_as_it_was_recorded() -> None:
    kept = KeptEvents()
    window = stream(kept)
    stored = replace(detailed(3), incident_id=pgproto.UUID(str(uuid.uuid4())))  # as read from the database
    recorded = [detailed(1), replace(detailed(2), incident_id=None, area="Phuong Ben Thanh"), stored]
    for item in recorded:
        window.record(item)
    assert [e for _, e in window.since(0)] == recorded
    assert window.since(1)[0][1] is window.since(1)[0][1]  # read again, not decoded again


def test_the_events_read_last_stay_decoded() -> None:
    kept = KeptEvents()
    window = stream(kept)
    for n in range(1, DECODED + 3):
        window.record(event(n))
    first = kept[1]
    for n in range(2, DECODED + 1):
        assert kept[n].event_id == n
    assert kept[1] is first  # read again: the most recent now
    assert kept[DECODED + 1].event_id == DECODED + 1  # one more than fits: 2, read least recently, goes
    assert kept[1] is first


def detailed(event_id: int) -> Event:
    """An event whose payload nests like an incident's: cameras with aims and feeds, floats, nulls."""
    cameras = [
        {
            "camera_id": f"C{n}",
            "lat": 10.7 + n / 7,
            "covers": n % 2 == 0,
            "aim": {"pan_deg": 12.5},
            "feed_path": None,
            "tags": ["a", "b"],
        }
        for n in range(5)
    ]
    incident = {"call_id": "113-1", "opened_at": "2026-11-29T22:00:00+00:00"}
    return replace(event(event_id), payload={"incident": incident, "cameras": cameras, "detections": []})


async def test_the_hub_lets_go_of_a_revoked_or_expired_streams_events() -> None:
    hub, _ = await hub_with_consoles(2)
    for event_id in (1, 2, 3):
        hub.publish(event(event_id))
    assert len(hub.kept) == 3
    first, second = list(hub.streams.values())
    revoked = next(iter(first.connections)).ws
    hub.revoke(first.principal.token_id)
    await asyncio.sleep(0)
    assert cast(Socket, revoked).closed_with == 4001
    assert len(hub.kept) == 3  # the other console still holds them
    for conn in list(second.connections):
        hub.detach(second, conn)
    second.idle_since -= hub.settings.resume_window_s + 1
    hub.heartbeats()
    assert not hub.streams and len(hub.kept) == 0
