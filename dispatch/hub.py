"""The console hub: per-console streams with seq and resume, bounded queues, fan-out without waiting."""

from __future__ import annotations

import asyncio
import contextlib
import time
from array import array
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiohttp import WSCloseCode, web

from dispatch.access import Audience
from dispatch.audit.writer import Auditor, plain
from dispatch.auth.tokens import Principal
from dispatch.detections.policy import Policy
from dispatch.frames import Rendered, control, render
from dispatch.kept import KeptEvents
from dispatch.metrics import Metrics
from dispatch.replay import Replays, delivered_action
from dispatch.resume import Resumes, StoredEvents
from dispatch.settings import Settings
from dispatch.storage.events import Event
from dispatch.streams import Connection, Stream

CLOSE_TOO_SLOW = 4008
CLOSE_REVOKED = 4001


# Event ids are numbered densely by the database: a ring of the last 524,288 covers 13 minutes at the soak's
# 650 events a second, and the 5,000 events each console keeps if it receives one event in a hundred or more.
SEEN = 1 << 19
_NO_EVENT = -(2**63)  # stored events count up from 1, events pushed while the database is away down from -1


class SeenIds:
    """The ids of events published here, the last SEEN of them: an id and id + SEEN share a slot (4 MB)."""

    def __init__(self) -> None:
        self._ids = array("q", [_NO_EVENT]) * SEEN

    def add(self, event_id: int) -> None:
        self._ids[event_id % SEEN] = event_id

    def __contains__(self, event_id: int) -> bool:
        return self._ids[event_id % SEEN] == event_id


class Hub:
    """Routes each published event to the streams that may see it."""

    def __init__(
        self, settings: Settings, metrics: Metrics, stored: StoredEvents, policy: Policy, auditor: Auditor
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.auditor = auditor
        self.metrics = metrics
        self.stored = stored
        self.replays = Replays(settings, policy, auditor)
        self.resumes = Resumes(
            settings, stored, self.replays, self._cut_off, metrics.read_back, self.published
        )
        self.streams: dict[str, Stream] = {}
        self.kept = KeptEvents()
        self.connected = 0  # connections attached and not yet detached
        metrics.consoles.set_function(lambda: self.connected)
        self.seen = SeenIds()
        self.last_event_id = 0  # highest stored event published here
        self.started_from = 0  # the newest stored event when this instance started: none up to it come here
        # Every event up to this id was announced to this instance (confirmed by the listener), so a catch-up
        # starts here. Not last_event_id: this instance's own events are published before others' NOTIFYs,
        # so that one runs ahead of events whose announcement a lost LISTEN connection dropped.
        self.announced_to = 0
        # Connections with frames kept back until the end of this turn of the event loop: the events published
        # in one turn (a detection batch, NOTIFYs read together) reach each console in one send, and a busy
        # loop sends each frame back to back rather than between stamps.
        self._corked: set[Connection] = set()
        self._after_flush: list[Callable[[], None]] = []

    def publish(self, event: Event, at_once: bool = False) -> None:
        """Delivers an event once, however often it is announced (locally and by NOTIFY). `at_once` sends each
        console's frame as soon as it is stamped, unless frames of this turn are already kept back."""
        if event.event_id in self.seen:
            return
        self.seen.add(event.event_id)
        self.last_event_id = max(self.last_event_id, event.event_id)
        cork = not at_once or bool(self._corked)  # kept-back frames go first: a console's order is kept
        by_role: dict[str, Rendered | None] = {}
        admitted: dict[Audience, bool] = {}  # consoles of one audience get the same answer: decide once
        reached: list[Stream] = []
        for stream in list(self.streams.values()):
            wanted = admitted.get(stream.audience)
            if wanted is None:
                wanted = admitted[stream.audience] = stream.wants(event)
            if not wanted:
                continue
            if stream.pending is not None:
                stream.pending.append(event)  # a new stream waits for its first resume
                continue
            rendered = self._rendered(event, stream.principal.role, by_role)
            if rendered is not None and self._deliver(stream, event, rendered, cork):
                reached.append(stream)
        shown = next((r for r in by_role.values() if r is not None), None)
        if shown is not None:
            self.metrics.events.labels(event.type).inc()
            self._disclose(event, reached, shown.paths, shown.expires)

    def _rendered(self, event: Event, role: str, cache: dict[str, Rendered | None]) -> Rendered | None:
        # Serialise once per audience (agency), not once per console.
        if role not in cache:
            cache[role] = render(event, self.settings, self.policy, role)
        return cache[role]

    def _deliver(self, stream: Stream, event: Event, rendered: Rendered, cork: bool) -> bool:
        """Records the event on the stream and sends it to its live connections; True if any got it."""
        seq = stream.record(event)
        if seq is None:
            return False  # a dropped stream, or a resume gave it this event already
        frame = None  # stays None when every connection is held: their release sends it
        for conn in tuple(stream.connections):  # a cut-off leaves the set
            if conn.held:
                continue
            frame = frame or rendered.stamp(seq, stream.principal.name)
            if cork and conn not in self._corked:
                self._cork(conn)
            if not conn.offer(frame):
                self._cut_off(stream, conn)
        return frame is not None

    def _cork(self, conn: Connection) -> None:
        if not self._corked:
            asyncio.get_running_loop().call_soon(self._flush)
        conn.cork()
        self._corked.add(conn)

    def _flush(self) -> None:
        corked, self._corked = self._corked, set()
        for conn in corked:
            conn.flush()
        done, self._after_flush = self._after_flush, []
        for callback in done:
            callback()

    def after_writes(self, callback: Callable[[], None]) -> None:
        """Runs `callback` once the frames published so far are written (now, when none are kept back)."""
        if self._corked:
            self._after_flush.append(callback)
        else:
            callback()

    def _disclose(self, event: Event, reached: list[Stream], paths: list[str], expires: int) -> None:
        # One audit row per event and delivery round, naming every console it reached and the feeds their
        # tokens open: a row per console would be hundreds of rows per call and could not keep up.
        if not reached:
            return
        subject: dict[str, object] = {
            "event_id": event.event_id,
            "type": event.type,
            "incident_id": str(event.incident_id),
            "consoles": [stream.audit_name for stream in reached],
        }
        if event.type == "detection":
            subject["detection_id"] = plain(event.payload["detection"]["detection_id"])
        if paths:
            subject["feeds"] = {"cameras": plain(paths), "expires": expires}
        action = delivered_action(event)
        first = reached[0].principal
        agencies = sorted({stream.principal.role for stream in reached})
        actor = first.name if len(reached) == 1 else f"{len(reached)} consoles"
        reason = f"incident {event.incident_id}" if event.incident_id else None
        self.auditor.record(actor, ",".join(agencies), action, subject, reason, plain_subject=True)

    def _cut_off(self, stream: Stream, conn: Connection) -> None:
        # A console that stops reading must not hold memory or delay anyone: drop it, it can resume.
        stream.connections.discard(conn)
        conn.cut_off = True
        self.metrics.dropped_consoles.inc()
        asyncio.get_running_loop().create_task(
            conn.ws.close(code=CLOSE_TOO_SLOW, message=b"too slow; resume")
        )

    def attach(
        self, principal: Principal, ws: web.WebSocketResponse, transport: asyncio.Transport
    ) -> tuple[Stream, Connection]:
        """Adds a held connection to its token's stream (created on first use); see `resume`."""
        stream = self.streams.get(principal.token_id)
        if stream is None:
            stream = self.streams[principal.token_id] = Stream(principal, fresh=True, kept=self.kept)
        conn = Connection(ws, transport, self.settings.console_buffer_bytes, stream.seq)
        conn.fresh = stream.pending is not None
        stream.connections.add(conn)
        self.connected += 1
        hello = control(
            "hello", stream.seq, console=principal.name, agency=principal.role, areas=sorted(principal.areas)
        )
        conn.offer(hello)
        conn.release = asyncio.get_running_loop().create_task(self.resumes.release_later(stream, conn))
        return stream, conn

    def detach(self, stream: Stream, conn: Connection) -> None:
        """Removes a closed connection; the stream stays for resume until the window passes."""
        stream.connections.discard(conn)
        if conn.release is not None:
            conn.release.cancel()
        self.connected -= 1
        stream.idle_since = time.monotonic()

    def start_at(self, event_id: int) -> None:
        """Where this instance starts following: the newest stored event when it starts."""
        self.last_event_id = self.announced_to = self.started_from = event_id

    def published(self, event_id: int) -> bool:
        """Whether this event has been published here, or never will be: stored before the start, or announced
        and further back than the seen ids reach (a resume's mark for it would otherwise never settle)."""
        reached = min(self.announced_to, self.last_event_id - SEEN)
        return event_id <= max(self.started_from, reached) or event_id in self.seen

    def confirm(self, event_id: int) -> None:
        """Every event up to `event_id` has been announced here (the listener saw its connection healthy)."""
        self.announced_to = max(self.announced_to, event_id)

    def unannounced(self, event_id: int) -> None:
        """An announced event could not be read: the next catch-up must include it."""
        self.announced_to = min(self.announced_to, event_id - 1)

    async def catch_up(self) -> int:
        """Publishes stored events this instance may have missed (a NOTIFY lost while LISTEN reconnected);
        those it already published are skipped."""
        window = datetime.now(UTC) - timedelta(seconds=self.settings.resume_window_s)
        stored = await self.stored.after(self.announced_to, window)
        fresh = [event for event in stored if event.event_id not in self.seen]
        for event in stored:
            self.publish(event)
        if stored:
            self.confirm(stored[-1].event_id)
        return len(fresh)

    def trim(self) -> None:
        """Cuts off the consoles furthest behind while all consoles' unsent bytes exceed the budget: the
        per-console limit alone lets memory grow with the number of consoles."""
        backlog = [(c.unsent, s, c) for s in self.streams.values() for c in s.connections]
        excess = sum(unsent for unsent, _, _ in backlog) - self.settings.console_memory_bytes
        for unsent, stream, conn in sorted(backlog, key=lambda item: item[0], reverse=True):
            if excess <= 0:
                return
            self._cut_off(stream, conn)
            excess -= unsent

    def heartbeats(self) -> None:
        """Sends a heartbeat to every connection idle longer than the heartbeat interval."""
        now = time.monotonic()
        for stream in list(self.streams.values()):
            stream.settle_ahead(self.published)
            for conn in [c for c in stream.connections if not c.held]:
                if now - conn.last_sent >= self.settings.heartbeat_s and conn.idle:
                    conn.last_sent = now
                    if not conn.offer(control("heartbeat", stream.seq)):
                        self._cut_off(stream, conn)
            if not stream.connections and now - stream.idle_since > self.settings.resume_window_s:
                del self.streams[stream.principal.token_id]
                stream.drop()

    async def run_heartbeats(self) -> None:
        """Heartbeats until cancelled."""
        while True:
            await asyncio.sleep(min(1.0, self.settings.heartbeat_s / 2))
            self.heartbeats()
            self.trim()

    def revoke(self, token_id: str) -> None:
        """Disconnects a revoked token's consoles at once and forgets its stream."""
        stream = self.streams.pop(token_id, None)
        if stream is None:
            return
        stream.drop()
        for conn in list(stream.connections):
            asyncio.get_running_loop().create_task(
                conn.ws.close(code=CLOSE_REVOKED, message=b"token revoked")
            )

    async def close_all(self, code: int = WSCloseCode.SERVICE_RESTART) -> None:
        """Tells every console to reconnect elsewhere (graceful shutdown)."""
        for stream in list(self.streams.values()):
            for conn in list(stream.connections):
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=code, message=b"restarting; resume")
