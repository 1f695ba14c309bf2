"""The console hub: per-console streams with seq and resume, bounded queues, fan-out without waiting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import WSCloseCode, web

from dispatch.access import Audience
from dispatch.audit.writer import Auditor, plain
from dispatch.auth.tokens import Principal
from dispatch.detections.policy import Policy
from dispatch.frames import Rendered, control, render
from dispatch.metrics import Metrics
from dispatch.replay import Replays, delivered_action
from dispatch.settings import Settings
from dispatch.storage.events import Event
from dispatch.streams import BUFFER, HOLD_S, Connection, KeptEvents, Stream

log = logging.getLogger(__name__)
CLOSE_TOO_SLOW = 4008
CLOSE_REVOKED = 4001
Replay = Callable[[int, datetime], Awaitable[list[Event]]]


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
        self.replays = Replays(settings, policy, auditor)
        self.streams: dict[str, Stream] = {}
        self.kept = KeptEvents()
        self.connected = 0  # connections attached and not yet detached
        metrics.consoles.set_function(lambda: self.connected)
        self.seen: OrderedDict[int, None] = OrderedDict()
        self.last_event_id = 0  # highest stored event published here
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
        self.seen[event.event_id] = None
        self.last_event_id = max(self.last_event_id, event.event_id)
        if len(self.seen) > 10 * BUFFER:
            self.seen.popitem(last=False)
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
            return False  # already delivered (replay and live overlap)
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
        conn.release = asyncio.get_running_loop().create_task(self._release_later(stream, conn))
        return stream, conn

    async def _release_later(self, stream: Stream, conn: Connection) -> None:
        await asyncio.sleep(HOLD_S)
        conn.release = None  # the hold is over: a resume from now on must not cancel the release under way
        await self.start(stream, conn)

    async def start(self, stream: Stream, conn: Connection) -> None:
        """Live frames for a console that did not resume (it subscribed or stayed silent): all since hello."""
        async with conn.lock:
            if conn.held:
                self._settle(stream)
                await self._release(stream, conn, conn.hello_seq)

    def detach(self, stream: Stream, conn: Connection) -> None:
        """Removes a closed connection; the stream stays for resume until the window passes."""
        stream.connections.discard(conn)
        if conn.release is not None:
            conn.release.cancel()
        self.connected -= 1
        stream.idle_since = time.monotonic()

    def start_at(self, event_id: int) -> None:
        """Where this instance starts following: the newest stored event when it starts."""
        self.last_event_id = self.announced_to = event_id

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
        stored = await self.replay(self.announced_to, window)
        fresh = [event for event in stored if event.event_id not in self.seen]
        for event in stored:
            self.publish(event)
        if stored:
            self.confirm(stored[-1].event_id)
        return len(fresh)

    async def resume(
        self, stream: Stream, conn: Connection, after_seq: int, after_event_id: int | None
    ) -> None:
        """Replays what the console missed after `after_seq` (from memory, or from the events table when it
        comes from another instance and names `after_event_id`), or sends reset when that is gone."""
        if conn.release is not None:
            conn.release.cancel()  # still within the hold: this resume says where to start
            conn.release = None
        async with conn.lock:  # one release per connection at a time, or frames would go out twice
            if conn.held:
                await self._resume_held(stream, conn, after_seq, after_event_id)
            else:
                await self._resume_late(stream, conn, after_seq, after_event_id is not None)

    async def _resume_held(
        self, stream: Stream, conn: Connection, after_seq: int, after_event_id: int | None
    ) -> None:
        if stream.pending is not None and after_event_id is not None:
            await self._replay_from_store(stream, after_seq, after_event_id)
        elif stream.pending is not None or not stream.holds(after_seq):
            self._settle(stream)
            self._reset(stream, conn)
            after_seq = conn.hello_seq
        await self._release(stream, conn, after_seq)

    async def _resume_late(self, stream: Stream, conn: Connection, after_seq: int, named_event: bool) -> None:
        # The hold ended before this resume was read (a busy loop, or subscribe came first): every frame
        # after hello_seq already went out live, so only the gap before it is left to send.
        if conn.fresh:
            if after_seq > 0 or named_event:
                self._reset(stream, conn)  # its seqs were another stream's: the gap cannot be known
        elif after_seq < conn.hello_seq and not stream.holds(after_seq):
            self._reset(stream, conn)
        elif after_seq < conn.hello_seq:
            gap = [item for item in stream.since(after_seq) if item[0] <= conn.hello_seq]
            if not await self.replays.send(stream, conn, gap):
                self._cut_off(stream, conn)

    @staticmethod
    def _reset(stream: Stream, conn: Connection) -> None:
        conn.offer(control("reset", stream.seq, reason="the missed events are no longer kept"))

    async def _replay_from_store(self, stream: Stream, after_seq: int, after_event_id: int) -> None:
        # New here: what the console missed is in the events table; events that arrived live meanwhile were
        # kept in `pending`. Both go out in id order (ids follow commit order), each once.
        window = datetime.now(UTC) - timedelta(seconds=self.settings.resume_window_s)
        try:
            missed = await self.replay(after_event_id, window)
        except Exception:
            log.exception("resume from the events table failed; the console gets reset")
            missed = []
        pending, stream.pending = stream.pending or [], None
        stream.continue_after(after_seq)
        for event in sorted({e.event_id: e for e in [*missed, *pending]}.values(), key=lambda e: e.event_id):
            if event.event_id > after_event_id:
                self._record_for(stream, event)

    def _settle(self, stream: Stream) -> None:
        """Ends a new stream's wait for its first resume: what was kept back is delivered."""
        pending, stream.pending = stream.pending, None
        for event in pending or []:
            self._record_for(stream, event)

    def _record_for(self, stream: Stream, event: Event) -> None:
        if stream.wants(event) and self.replays.rendered(event, stream.principal.role):
            stream.record(event)

    async def _release(self, stream: Stream, conn: Connection, after_seq: int) -> None:
        """Sends a held connection all after `after_seq`, waiting for room, then lets live frames in."""
        while conn.held and not conn.transport.is_closing():
            missed = stream.since(after_seq)
            if not missed:
                conn.held = False  # no await since the check: nothing can slip in between
                return
            if not await self.replays.send(stream, conn, missed):
                self._cut_off(stream, conn)
                return
            after_seq = missed[-1][0]

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
