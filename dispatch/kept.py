"""The events that consoles' recent windows hold, each kept once as JSON bytes while some console holds it."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import datetime

import orjson

from dispatch.storage.events import Event

DECODED = 512  # kept events held decoded, the most recently read


class KeptEvents:
    """The events that some console's recent window holds, each kept once for all consoles that hold it.

    Consoles hold ids in arrays the collector never walks: a reference per console and event (a million at
    200 consoles) made each full collection stop the service for 150-350 ms, the calls benchmark's p99. The
    events themselves are kept as JSON bytes, which the collector does not walk either: as dicts, a full
    window (5,000 events of some 60 containers each) still cost each full collection 24-39 ms at 150 calls/s.
    """

    def __init__(self) -> None:
        self._events: dict[int, bytes] = {}
        self._holders: dict[int, int] = {}
        # Consoles resuming together read the same events: the last ones read are kept decoded.
        self._decoded: OrderedDict[int, Event] = OrderedDict()

    def hold(self, event: Event) -> None:
        held = self._holders.get(event.event_id, 0)
        if not held:
            self._events[event.event_id] = _packed(event)
        self._holders[event.event_id] = held + 1

    def release(self, event_id: int) -> None:
        left = self._holders[event_id] - 1
        if left:
            self._holders[event_id] = left
        else:
            del self._holders[event_id], self._events[event_id]
            self._decoded.pop(event_id, None)

    def __getitem__(self, event_id: int) -> Event:
        event = self._decoded.get(event_id)
        if event is not None:
            self._decoded.move_to_end(event_id)
            return event
        event = self._decoded[event_id] = _unpacked(self._events[event_id])
        if len(self._decoded) > DECODED:
            self._decoded.popitem(last=False)
        return event

    def __len__(self) -> int:
        return len(self._events)


def _packed(e: Event) -> bytes:
    # The id as text: orjson writes uuid.UUID but not the UUID type asyncpg reads stored events with.
    incident = None if e.incident_id is None else str(e.incident_id)
    return orjson.dumps((e.event_id, e.created_at, e.type, incident, e.hotline, e.area, e.payload))


def _unpacked(packed: bytes) -> Event:
    event_id, created_at, type_, incident_id, hotline, area, payload = orjson.loads(packed)
    incident = None if incident_id is None else uuid.UUID(incident_id)
    return Event(event_id, datetime.fromisoformat(created_at), type_, incident, hotline, area, payload)
