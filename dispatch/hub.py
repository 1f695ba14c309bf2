"""The console hub: per-console streams with seq and resume, bounded queues, fan-out without waiting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import WSCloseCode, WSMsgType, web

from dispatch.access import Subscription, may_see
from dispatch.audit.writer import Auditor
from dispatch.auth.tokens import Principal
from dispatch.calls.feeds import console_token
from dispatch.detections.policy import Policy
from dispatch.frames import Rendered, control, render
from dispatch.metrics import Metrics
from dispatch.settings import Settings
from dispatch.storage.events import Event

log = logging.getLogger(__name__)
CLOSE_TOO_SLOW = 4008
CLOSE_REVOKED = 4001
BUFFER = 5000
Replay = Callable[[int, datetime], Awaitable[list[Event]]]


class Connection:
    """One WebSocket: a bounded queue drained by its own sender task."""

    def __init__(self, ws: web.WebSocketResponse, limit: int) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(limit)
        self.last_sent = time.monotonic()
        self.cut_off = False

    def offer(self, frame: bytes) -> bool:
        """Queues a frame; False when the console has stopped reading."""
        try:
            self.queue.put_nowait(frame)
            return True
        except asyncio.QueueFull:
            return False

    async def drain(self) -> None:
        """Sends queued frames in order until the socket closes."""
        while not self.ws.closed:
            frame = await self.queue.get()
            # Frames are UTF-8 JSON already: send them as text without decoding and re-encoding.
            await self.ws.send_frame(frame, WSMsgType.TEXT)
            self.last_sent = time.monotonic()


class Stream:
    """What one console token receives: its seq counter, its filter, and recent frames for resume."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.subscription = Subscription()
        self.seq = 0
        self.sent: deque[tuple[int, Event]] = deque(maxlen=BUFFER)
        self.connections: set[Connection] = set()
        self.pending: list[Event] | None = None
        self.idle_since = time.monotonic()

    def wants(self, event: Event) -> bool:
        return may_see(self.principal, self.subscription, event.hotline, event.area)


class Hub:
    """Routes each published event to the streams that may see it."""

    def __init__(
        self, settings: Settings, metrics: Metrics, replay: Replay, policy: Policy, auditor: Auditor
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.auditor = auditor
        self.metrics = metrics
        self.replay = replay
        self.streams: dict[str, Stream] = {}
        self.seen: OrderedDict[int, None] = OrderedDict()

    def publish(self, event: Event) -> None:
        """Delivers an event once, however often it is announced (locally and by NOTIFY)."""
        if event.event_id in self.seen:
            return
        self.seen[event.event_id] = None
        if len(self.seen) > 10 * BUFFER:
            self.seen.popitem(last=False)
        by_role: dict[str, Rendered | None] = {}
        for stream in list(self.streams.values()):
            if not stream.wants(event):
                continue
            if stream.pending is not None:
                stream.pending.append(event)
                continue
            rendered = self._rendered(event, stream.principal.role, by_role)
            if rendered is not None:
                self._deliver(stream, event, rendered)
        if any(by_role.values()):
            self.metrics.events.labels(event.type).inc()

    def _rendered(self, event: Event, role: str, cache: dict[str, Rendered | None]) -> Rendered | None:
        # Serialise once per audience (agency), not once per console.
        if role not in cache:
            cache[role] = render(event, self.settings, self.policy, role)
        return cache[role]

    def _deliver(self, stream: Stream, event: Event, rendered: Rendered) -> None:
        stream.seq += 1
        stream.sent.append((stream.seq, event))
        frame = self._stamp(stream, rendered, stream.seq)
        self._disclose(stream, event, rendered)
        for conn in list(stream.connections):
            if not conn.offer(frame):
                self._cut_off(stream, conn)

    def _disclose(self, stream: Stream, event: Event, rendered: Rendered) -> None:
        # Every delivery to a console, and every feed token it carries, is one audit row.
        who = stream.principal
        reason = f"incident {event.incident_id}" if event.incident_id else None
        subject: dict[str, object] = {
            "event_id": event.event_id,
            "type": event.type,
            "incident_id": str(event.incident_id),
            "token_id": who.token_id,
        }
        if event.type == "detection":
            subject["detection_id"] = event.payload["detection"]["detection_id"]
        action = "detection.delivered" if event.type == "detection" else "incident.delivered"
        self.auditor.record(who.name, who.role, action, subject, reason)
        if rendered.paths:
            grant = {**subject, "cameras": rendered.paths, "expires": rendered.expires}
            self.auditor.record(who.name, who.role, "feed.granted", grant, reason)

    def _stamp(self, stream: Stream, rendered: Rendered, seq: int) -> bytes:
        token = None
        if rendered.paths:
            token = console_token(
                self.settings.token_key, stream.principal.name, rendered.paths, rendered.expires
            )
        return rendered.stamp(seq, token)

    def _cut_off(self, stream: Stream, conn: Connection) -> None:
        # A console that stops reading must not hold memory or delay anyone: drop it, it can resume.
        stream.connections.discard(conn)
        conn.cut_off = True
        self.metrics.dropped_consoles.inc()
        asyncio.get_running_loop().create_task(
            conn.ws.close(code=CLOSE_TOO_SLOW, message=b"too slow; resume")
        )

    def attach(self, principal: Principal, ws: web.WebSocketResponse) -> tuple[Stream, Connection]:
        """Adds a connection to its token's stream (created on first use)."""
        stream = self.streams.get(principal.token_id)
        if stream is None:
            stream = self.streams[principal.token_id] = Stream(principal)
        conn = Connection(ws, self.settings.console_queue)
        stream.connections.add(conn)
        self.metrics.consoles.inc()
        conn.offer(
            control(
                "hello",
                stream.seq,
                console=principal.name,
                agency=principal.role,
                areas=sorted(principal.areas),
            )
        )
        return stream, conn

    def detach(self, stream: Stream, conn: Connection) -> None:
        """Removes a closed connection; the stream stays for resume until the window passes."""
        stream.connections.discard(conn)
        self.metrics.consoles.dec()
        stream.idle_since = time.monotonic()

    async def resume(
        self, stream: Stream, conn: Connection, after_seq: int, after_event_id: int | None
    ) -> None:
        """Replays what this stream missed after `after_seq`, or sends reset when that is gone."""
        oldest = stream.sent[0][0] if stream.sent else stream.seq + 1
        if stream.seq >= after_seq >= oldest - 1:
            for seq, event in [item for item in stream.sent if item[0] > after_seq]:
                rendered = render(event, self.settings, self.policy, stream.principal.role)
                if rendered is not None:
                    self._disclose(stream, event, rendered)
                    conn.offer(self._stamp(stream, rendered, seq))
            return
        if after_event_id is None or stream.seq > 0:
            conn.offer(control("reset", stream.seq, reason="the missed events are no longer kept"))
            return
        await self._replay_from_store(stream, after_seq, after_event_id)

    async def _replay_from_store(self, stream: Stream, after_seq: int, after_event_id: int) -> None:
        # Another instance served this stream before: rebuild it from the events table, holding live events
        # back until the replay is done so that nothing is sent twice or out of order.
        stream.pending = []
        stream.seq = after_seq
        try:
            window = datetime.now(UTC) - timedelta(seconds=self.settings.resume_window_s)
            missed = await self.replay(after_event_id, window)
        finally:
            pending, stream.pending = stream.pending or [], None
        last = after_event_id
        for event in [*missed, *pending]:
            rendered = render(event, self.settings, self.policy, stream.principal.role)
            if event.event_id > last and stream.wants(event) and rendered is not None:
                self._deliver(stream, event, rendered)
                last = event.event_id

    def heartbeats(self) -> None:
        """Sends a heartbeat to every connection idle longer than the heartbeat interval."""
        now = time.monotonic()
        for stream in list(self.streams.values()):
            for conn in list(stream.connections):
                if now - conn.last_sent >= self.settings.heartbeat_s and conn.queue.empty():
                    conn.last_sent = now
                    if not conn.offer(control("heartbeat", stream.seq)):
                        self._cut_off(stream, conn)
            if not stream.connections and now - stream.idle_since > self.settings.resume_window_s:
                del self.streams[stream.principal.token_id]

    async def run_heartbeats(self) -> None:
        """Heartbeats until cancelled."""
        while True:
            await asyncio.sleep(min(1.0, self.settings.heartbeat_s / 2))
            self.heartbeats()

    def revoke(self, token_id: str) -> None:
        """Disconnects a revoked token's consoles at once and forgets its stream."""
        stream = self.streams.pop(token_id, None)
        for conn in list(stream.connections if stream else ()):
            asyncio.get_running_loop().create_task(
                conn.ws.close(code=CLOSE_REVOKED, message=b"token revoked")
            )

    async def close_all(self, code: int = WSCloseCode.SERVICE_RESTART) -> None:
        """Tells every console to reconnect elsewhere (graceful shutdown)."""
        for stream in list(self.streams.values()):
            for conn in list(stream.connections):
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=code, message=b"restarting; resume")
