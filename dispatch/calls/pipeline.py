"""What happens to a call, in order: verify, parse, match, store (with its outbox event), publish.

Verification and body limits happen in the HTTP handler before anything here runs. Matching fails open
(the call is stored without cameras); storing does not (nothing is acknowledged that is not committed).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from dispatch.api_models import CallIn, CloseIn, LocationUpdateIn
from dispatch.calls.degraded import Degraded
from dispatch.calls.matching import Matched, match_location, unmatched
from dispatch.calls.privacy import caller_fingerprint
from dispatch.camera_index import LiveIndex
from dispatch.hub import Hub
from dispatch.ingest.location import parse_location
from dispatch.ingest.model import LocationError, ReportedLocation
from dispatch.metrics import CallClock
from dispatch.settings import Settings
from dispatch.storage import calls as call_store
from dispatch.storage import detections as detection_store
from dispatch.storage import events as event_store
from dispatch.storage.calls import NewCall, StoredCall
from dispatch.storage.db import StorageUnavailable, connection, transaction
from dispatch.storage.detections import Lookback
from geo.errors import GeoError

log = logging.getLogger(__name__)
INCIDENTS = uuid.UUID("6f1c2b9e-4d0a-5c8e-9b7f-3a2d1e0c4b5a")


class Storing:
    """How many new calls are between their match and their push on this instance."""

    def __init__(self) -> None:
        self.count = 0


@dataclass(frozen=True)
class Pipeline:
    """The call path's collaborators, built once per application."""

    settings: Settings
    pool: asyncpg.Pool
    live: LiveIndex
    hub: Hub
    degraded: Degraded
    storing: Storing = field(default_factory=Storing)

    async def receive(self, call: CallIn, arrived: float | None = None) -> tuple[StoredCall, bool]:
        """A new call (True) or the stored one for a retry (False); `arrived` (perf_counter) dates it."""
        clock = self.hub.metrics.clock(arrived)
        clock.lap("parse")
        reported = parse_location(call.location)
        try:
            matched = self.match(reported)
        except LocationError as exc:
            # Never refuse the call itself: it is stored without a location, which a later fix can give it.
            log.warning("call %s stored without its location: %s", call.call_id, exc)
            matched = None
        number_hash, last3 = caller_fingerprint(self.settings.caller_key, call.caller.number)
        new = NewCall(
            incident_id(call.call_id),
            call.call_id,
            call.hotline,
            call.received_at,
            number_hash,
            last3,
            matched.area if matched else None,
            matched.location if matched else None,
            matched.cameras if matched else [],
            matched.region_wkb if matched else None,
        )
        clock.lap("match")
        self.storing.count += 1
        try:
            return await self._store(new, clock)
        except StorageUnavailable:
            self.degraded.publish(new)
            raise
        finally:
            self.storing.count -= 1

    async def _store(self, new: NewCall, clock: CallClock) -> tuple[StoredCall, bool]:
        # One round trip: a statement that reads the detections look-back and commits the call with its event.
        # The consoles get the event before the connection goes back to the pool (its reset is a round trip).
        async with connection(self.pool) as conn:
            stored = new.opened(datetime.now(UTC))
            event = await call_store.open_call(
                conn,
                new,
                self.live.projector.srid,
                stored.opened_at,
                incident_fields(stored),
                self.lookback(),
            )
            clock.lap("store")
            if event is None:
                return await call_store.get(conn, new.call_id), False
            # Alone, the call goes to each console as its frame is stamped, so the first consoles read while
            # the rest are stamped. With others on the way, frames go out back to back at the end of the
            # turn: interleaved sends cost more CPU (calls bench, 200 consoles: fan-out 8.8 ms against 7.2).
            self.hub.publish(event, at_once=self.storing.count == 1)
            clock.lap("fanout")
            self.hub.after_writes(clock.written)
        return stored, True

    async def relocate(self, call_id: str, update: LocationUpdateIn) -> StoredCall:
        """A later fix: stored once, re-matched, and announced when it is the newest."""
        reported = parse_location(update.location)
        assert reported is not None
        matched = self.match(reported)
        assert matched is not None
        content = orjson.dumps(
            update.seq if update.seq is not None else update.location, option=orjson.OPT_SORT_KEYS
        )
        async with transaction(self.pool) as conn:
            stored = await call_store.get(conn, call_id, lock=True)
            newest = await call_store.newest_seq(conn, stored.incident_id)
            fresh = await call_store.add_location(
                conn,
                stored.incident_id,
                update.seq,
                hashlib.sha256(content).hexdigest(),
                matched.location["reported"],
                matched.location["region"],
            )
            if (
                not fresh
                or stored.status == "closed"
                or (update.seq is not None and newest is not None and update.seq < newest)
            ):
                return stored
            previous = {c["camera_id"] for c in stored.cameras}
            stored = await call_store.rematch(
                conn,
                stored.incident_id,
                matched.area,
                matched.location,
                matched.cameras,
                matched.region_wkb,
                self.live.projector.srid,
            )
            payload = incident_payload(stored, await self.recent(conn, stored))
            payload["changes"] = _changes(previous, stored.cameras)
            event = await event_store.append(
                conn, "incident.updated", stored.incident_id, stored.hotline, stored.area, payload
            )
        self.hub.publish(event)
        return stored

    async def close(self, call_id: str, body: CloseIn) -> StoredCall:
        """Closes the incident once; repeats answer the closed incident."""
        # Read, then one statement closes it with its event unless it changed meanwhile: the event-order lock
        # is then held for that statement's commit alone, not across a transaction's round trips.
        async with connection(self.pool) as conn:
            while True:
                stored = await call_store.get(conn, call_id)
                if stored.status == "closed":
                    return stored
                now = datetime.now(UTC)
                closed = replace(
                    stored, status="closed", closed_at=now, close_reason=body.reason, updated_at=now
                )
                event = await call_store.close(conn, closed, stored.updated_at, incident_payload(closed))
                if event is not None:
                    break
        self.hub.publish(event)
        return closed

    async def recent(self, conn: asyncpg.Connection, stored: StoredCall) -> list[dict[str, Any]]:
        """The matched cameras' detections in the look-back window, newest first (all kinds)."""
        lookback = self.lookback()
        camera_ids = [camera["camera_id"] for camera in stored.cameras]
        return await detection_store.recent(conn, camera_ids, lookback.since, lookback.limit)

    def lookback(self) -> Lookback:
        """Which detections an incident carries now."""
        since = datetime.now(UTC) - timedelta(seconds=self.settings.detection_lookback_s)
        return Lookback(since, self.settings.detection_limit)

    def match(self, reported: ReportedLocation | None) -> Matched | None:
        """Matches a location; a failure is logged and the call goes on without cameras. LocationError when
        the location cannot be placed at all (outside the metric CRS, a vanishing confidence)."""
        if reported is None:
            return None
        try:
            return match_location(reported, self.live, self.settings)
        except GeoError as exc:  # raised placing the region, before any matching: unmatched() would too
            raise LocationError("location", f"cannot be placed: {exc}") from None
        except Exception:
            log.exception("matching failed; the call goes on without cameras")
            return unmatched(reported, self.live, self.settings)


def incident_id(call_id: str) -> uuid.UUID:
    """The incident's identity, derived from the call id so that a call pushed while the database was away
    keeps its identity once it is stored."""
    return uuid.uuid5(INCIDENTS, call_id)


def incident_payload(stored: StoredCall, detections: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The event body: the incident, its cameras (feeds are added per console) and recent detections."""
    return {"incident": incident_fields(stored), "cameras": stored.cameras, "detections": detections or []}


def incident_fields(stored: StoredCall) -> dict[str, Any]:
    """The incident object without cameras and detections."""
    return {
        "incident_id": str(stored.incident_id),
        "call_id": stored.call_id,
        "hotline": stored.hotline,
        "status": stored.status,
        "opened_at": stored.opened_at.isoformat(),
        "updated_at": stored.updated_at.isoformat(),
        "degraded": False,
        "location": stored.location,
        "area": stored.area,
    }


def _changes(previous: set[str], cameras: list[dict[str, Any]]) -> dict[str, list[str]]:
    current = [c["camera_id"] for c in cameras]
    return {"added": [c for c in current if c not in previous], "removed": sorted(previous - set(current))}
