"""A console's stream (seq, filter, recent events) and its connections (bounded queue, own sender)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque

from aiohttp import WSMsgType, web

from dispatch.access import Subscription, may_see
from dispatch.auth.tokens import Principal
from dispatch.storage.events import Event

BUFFER = 5000
# A new connection is held (live frames kept back) until it resumes or this long has passed, so that a resume
# replays exactly what was missed and nothing delivered live in between is sent twice.
HOLD_S = 1.0


class Connection:
    """One WebSocket: a bounded queue drained by its own sender task."""

    def __init__(self, ws: web.WebSocketResponse, limit: int, hello_seq: int) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(limit)
        self.last_sent = time.monotonic()
        self.cut_off = False
        self.held = True
        self.hello_seq = hello_seq
        self.release: asyncio.Task[None] | None = None

    def offer(self, frame: bytes) -> bool:
        """Queues a frame; False when the console has stopped reading."""
        try:
            self.queue.put_nowait(frame)
            return True
        except asyncio.QueueFull:
            return False

    async def put(self, frame: bytes, timeout_s: float = 10.0) -> bool:
        """Queues a frame, waiting for room (replays are larger than the queue); False if it never came."""
        try:
            await asyncio.wait_for(self.queue.put(frame), timeout_s)
            return True
        except TimeoutError:
            return False

    async def drain(self) -> None:
        """Sends queued frames in order until the socket closes."""
        while not self.ws.closed:
            frame = await self.queue.get()
            # Frames are UTF-8 JSON already: send them as text without decoding and re-encoding.
            await self.ws.send_frame(frame, WSMsgType.TEXT)
            self.last_sent = time.monotonic()


class Stream:
    """What one console token receives: its seq counter, its filter, and recent events for resume."""

    def __init__(self, principal: Principal, fresh: bool) -> None:
        self.principal = principal
        self.subscription = Subscription()
        self.seq = 0
        self.sent: deque[tuple[int, Event]] = deque(maxlen=BUFFER)
        self.delivered: OrderedDict[int, None] = OrderedDict()
        self.connections: set[Connection] = set()
        # New on this instance: events are kept back until the first resume says where the console was.
        self.pending: list[Event] | None = [] if fresh else None
        self.idle_since = time.monotonic()

    def wants(self, event: Event) -> bool:
        return may_see(self.principal, self.subscription, event.hotline, event.area)

    def record(self, event: Event) -> int | None:
        """The seq for a newly delivered event, or None when this stream already delivered it."""
        if event.event_id in self.delivered:
            return None
        self.delivered[event.event_id] = None
        if len(self.delivered) > BUFFER:
            self.delivered.popitem(last=False)
        self.seq += 1
        self.sent.append((self.seq, event))
        return self.seq

    def since(self, after_seq: int) -> list[tuple[int, Event]]:
        """Recent events after a seq, oldest first."""
        return [item for item in self.sent if item[0] > after_seq]

    def holds(self, after_seq: int) -> bool:
        """Whether everything after `after_seq` is still in the buffer."""
        oldest = self.sent[0][0] if self.sent else self.seq + 1
        return self.seq >= after_seq >= oldest - 1
