"""A console's stream (seq, filter, recent events) and its connections (frames written to the socket)."""

from __future__ import annotations

import asyncio
import struct
import time
from collections import OrderedDict, deque
from itertools import takewhile

from aiohttp import WSMsgType, web

from dispatch.access import Subscription, may_see
from dispatch.audit.writer import plain
from dispatch.auth.tokens import Principal
from dispatch.storage.events import Event

BUFFER = 5000
# A new connection is held (live frames kept back) until it resumes or this long has passed, so that a resume
# replays exactly what was missed and nothing delivered live in between is sent twice.
HOLD_S = 1.0


class Connection:
    """One WebSocket. Frames go straight to its transport: no task, queue or await per console and frame."""

    def __init__(
        self, ws: web.WebSocketResponse, transport: asyncio.Transport, limit: int, hello_seq: int
    ) -> None:
        self.ws = ws
        self.transport = transport
        self.limit = limit  # unsent bytes beyond which the console has stopped reading
        self.last_sent = time.monotonic()
        self.cut_off = False
        self.held = True
        self.hello_seq = hello_seq
        self.release: asyncio.Task[None] | None = None  # the hold's timer, until it fires or a resume comes
        self.lock = asyncio.Lock()  # one release (replay, then live) at a time
        self.fresh = False  # its stream was new here: seqs it names are from another instance
        self._compressed: set[asyncio.Task[None]] = set()
        self._corked: list[bytes] | None = None
        self._corked_bytes = 0

    @property
    def unsent(self) -> int:
        """Bytes written or kept back and not yet taken by the kernel."""
        return self.transport.get_write_buffer_size() + self._corked_bytes

    @property
    def idle(self) -> bool:
        """Nothing written and still unsent."""
        return self.transport.get_write_buffer_size() == 0 and not self._compressed and not self._corked

    def offer(self, frame: bytes) -> bool:
        """Writes a frame (or keeps it for `flush` while corked); False when the console has stopped reading
        (too much of it still unsent)."""
        if self.transport.is_closing():
            return True  # going away: its handler detaches it
        if self.unsent > self.limit:
            return False
        if self.ws.compress:
            return self._offer_compressed(frame)
        header = text_header(len(frame))
        if self._corked is None:
            self.transport.write(header + frame)
        else:
            self._corked += (header, frame)  # joined once at flush: no copy of the frame per console here
            self._corked_bytes += len(header) + len(frame)
        self.last_sent = time.monotonic()
        return True

    def cork(self) -> None:
        """Keeps frames back until `flush`, so that a burst of events costs one send, not one per frame."""
        if self._corked is None:
            self._corked = []

    def flush(self) -> None:
        """Writes the frames kept back since `cork`, in one send."""
        corked, self._corked, self._corked_bytes = self._corked, None, 0
        if corked and not self.cut_off and not self.transport.is_closing():
            self.transport.write(b"".join(corked))

    def _offer_compressed(self, frame: bytes) -> bool:
        # permessage-deflate keeps compressor state per connection: aiohttp's writer must frame these, in
        # order (its send lock is first come, first served). Too many unsent frames means a console lagging.
        if len(self._compressed) * 4096 > self.limit:
            return False
        task = asyncio.get_running_loop().create_task(self.ws.send_frame(frame, WSMsgType.TEXT))
        self._compressed.add(task)
        task.add_done_callback(self._compressed.discard)
        self.last_sent = time.monotonic()
        return True

    async def put(self, frame: bytes, timeout_s: float = 10.0) -> bool:
        """Writes a frame once there is room (replays are longer than the limit); False if room never came."""
        deadline = time.monotonic() + timeout_s
        while not self.offer(frame):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True


def text_header(length: int) -> bytes:
    """The header of an unmasked, final text frame of this length (RFC 6455 section 5.2)."""
    if length < 126:
        return _SHORT.pack(0x81, length)
    if length < 65536:
        return _MEDIUM.pack(0x81, 126, length)
    return _LONG.pack(0x81, 127, length)


_SHORT, _MEDIUM, _LONG = struct.Struct("!BB"), struct.Struct("!BBH"), struct.Struct("!BBQ")


class Stream:
    """What one console token receives: its seq counter, its filter, and recent events for resume."""

    def __init__(self, principal: Principal, fresh: bool) -> None:
        self.principal = principal
        # How delivery audit rows name this console, made plain once rather than on every delivery.
        self.audit_name = plain(
            {"name": principal.name, "agency": principal.role, "token_id": principal.token_id}
        )
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
        """Recent events after a seq, oldest first (from the newest end: a resume is usually recent)."""
        newer = list(takewhile(lambda item: item[0] > after_seq, reversed(self.sent)))
        newer.reverse()
        return newer

    def holds(self, after_seq: int) -> bool:
        """Whether everything after `after_seq` is still in the buffer."""
        oldest = self.sent[0][0] if self.sent else self.seq + 1
        return self.seq >= after_seq >= oldest - 1
