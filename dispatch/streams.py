"""A console's stream (seq, filter, recent events) and its connections (frames written to the socket)."""

from __future__ import annotations

import asyncio
import struct
import time
from array import array
from collections.abc import Callable

from aiohttp import WSMsgType, web

from dispatch.access import Subscription, audience
from dispatch.audit.writer import plain
from dispatch.auth.tokens import Principal
from dispatch.kept import KeptEvents
from dispatch.storage.events import Event

BUFFER = 5000  # the latest events per console kept here in full, for resume
# The seqs per console whose event ids are kept (8 bytes each): a console further behind than BUFFER gets the
# events in between from the events table, numbered as they were, instead of a reset.
NUMBERED = 50_000
# A new connection is held (live frames kept back) until it resumes or this long has passed, so that a resume
# replays exactly what was missed and nothing delivered live in between is sent twice.
HOLD_S = 1.0
# A frame's bytes, or its head and body (a console's seq, then the body its audience shares).
Frame = bytes | tuple[bytes, bytes]


class Connection:
    """One WebSocket. Frames go straight to its transport: no task, queue or await per console and frame."""

    __slots__ = (
        "_compressed",
        "_corked",
        "_corked_bytes",
        "compress",
        "cut_off",
        "fresh",
        "held",
        "hello_seq",
        "last_sent",
        "limit",
        "lock",
        "release",
        "transport",
        "ws",
    )

    def __init__(
        self, ws: web.WebSocketResponse, transport: asyncio.Transport, limit: int, hello_seq: int
    ) -> None:
        self.ws = ws
        self.compress = bool(ws.compress)  # negotiated before the connection is attached
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

    def offer(self, frame: Frame) -> bool:
        """Writes a frame (or keeps it for `flush` while corked); False when the console has stopped reading
        (too much of it still unsent)."""
        transport = self.transport
        if transport.is_closing():
            return True  # going away: its handler detaches it
        if self.unsent > self.limit:
            return False
        if self.compress:
            return self._offer_compressed(frame if isinstance(frame, bytes) else b"".join(frame))
        # The header and the frame's pieces in one send: uvloop writes them with writev, so nothing is copied
        # to prepend the header (the 200 sends of a call cost 7 % less than a joined write, measured alone).
        buffers: tuple[bytes, ...]
        if isinstance(frame, bytes):
            size = len(frame)
            buffers = (text_header(size), frame)
        else:
            size = len(frame[0]) + len(frame[1])
            buffers = (text_header(size), *frame)
        if self._corked is None:
            transport.writelines(buffers)
        else:
            self._corked += buffers  # written together at flush
            self._corked_bytes += len(buffers[0]) + size
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
            self.transport.writelines(corked)

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

    async def put(self, frame: Frame, timeout_s: float = 10.0) -> bool:
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

    __slots__ = (
        "_ahead",
        "_base",
        "_dropped",
        "_ids",
        "_kept",
        "audience",
        "audit_name",
        "connections",
        "idle_since",
        "pending",
        "principal",
        "seq",
    )

    def __init__(self, principal: Principal, fresh: bool, kept: KeptEvents) -> None:
        self.principal = principal
        # How delivery audit rows name this console, made plain once rather than on every delivery.
        self.audit_name = plain(
            {"name": principal.name, "agency": principal.role, "token_id": principal.token_id}
        )
        self.audience = audience(principal, Subscription())
        self.seq = 0
        self._kept = kept
        # The ids of the last len(_ids) seqs (up to NUMBERED), a ring in seq order from seq `_base` + 1 (seqs
        # are consecutive); the events of the last `_kept_count` of them are kept in full.
        self._ids = array("q")
        self._base = 0
        self._dropped = False
        # Events a resume read from the events table and recorded here before the hub published them on this
        # instance (a console new here): the hub's publish must not deliver them again.
        self._ahead: set[int] = set()
        self.connections: set[Connection] = set()
        # New on this instance: events are kept back until the first resume says where the console was.
        self.pending: list[Event] | None = [] if fresh else None
        self.idle_since = time.monotonic()

    def subscribe(self, subscription: Subscription) -> None:
        """Narrows what the console receives."""
        self.audience = audience(self.principal, subscription)

    def wants(self, event: Event) -> bool:
        return self.audience.admits(event.hotline, event.area)

    def record(self, event: Event) -> int | None:
        """The seq for an event newly delivered to this stream, or None when the stream is dropped or already
        has it (the hub routes each event once; a resume may have recorded it before)."""
        # No lookup among the events delivered here: run for every console on the fan-out's path, a dict of
        # each console's last 5,000 ids cost a fifth of the publish to 200 consoles run cold (1.64 against
        # 1.33 ms).
        if self._dropped:
            return None
        if self._ahead and event.event_id in self._ahead:
            self._ahead.remove(event.event_id)
            return None
        self.seq += 1
        if self.seq - self._base > BUFFER:  # the event BUFFER seqs back is no longer kept in full
            self._kept.release(self._ids[self._slot(self.seq - BUFFER)])
        if len(self._ids) < NUMBERED:
            self._ids.append(event.event_id)
        else:  # the oldest number leaves
            self._ids[self._slot(self.seq)] = event.event_id
        self._kept.hold(event)
        return self.seq

    @property
    def _kept_count(self) -> int:
        """How many of the latest seqs have their events kept in full."""
        return min(self.seq - self._base, BUFFER)

    def recorded_ahead(self, event_id: int) -> None:
        """The hub has yet to publish this recorded event here: its publish is to skip this stream."""
        self._ahead.add(event_id)

    def settle_ahead(self, published: Callable[[int], bool]) -> None:
        """Forgets the events recorded ahead that the hub has published (or never will) meanwhile."""
        if self._ahead:
            self._ahead = {event_id for event_id in self._ahead if not published(event_id)}

    def _slot(self, seq: int) -> int:
        return (seq - self._base - 1) % NUMBERED

    def continue_after(self, seq: int) -> None:
        """Numbers on after `seq` (a console's last seq from another instance): what was kept here before
        the jump cannot be numbered any more, so it is forgotten (a resume before it gets reset)."""
        if seq > self.seq:
            self._forget()
            self.seq = self._base = seq

    def drop(self) -> None:
        """Lets go of every kept event for good: the hub routes nothing more to this stream."""
        self._forget()
        self._dropped = True

    def _forget(self) -> None:
        for seq in range(self.seq - self._kept_count + 1, self.seq + 1):
            self._kept.release(self._ids[self._slot(seq)])
        self._ids = array("q")
        self._base = self.seq

    def since(self, after_seq: int) -> list[tuple[int, Event]]:
        """The events kept in full after a seq with their seqs, oldest first (see `holds`)."""
        first = max(after_seq, self.seq - self._kept_count) + 1
        return [(seq, self._kept[self._ids[self._slot(seq)]]) for seq in range(first, self.seq + 1)]

    def holds(self, after_seq: int) -> bool:
        """Whether every event after `after_seq` is still kept in full."""
        return self.seq >= after_seq >= self.seq - self._kept_count

    def numbers(self, after_seq: int) -> bool:
        """Whether the event id of every seq after `after_seq` is still known."""
        return self.seq >= after_seq >= self.seq - len(self._ids)

    def forgotten(self, after_seq: int, most: int) -> list[tuple[int, int]]:
        """Up to `most` (seq, event id) after `after_seq` whose events are no longer kept in full, oldest
        first: what a resume reads back from the events table."""
        first = max(after_seq, self.seq - len(self._ids)) + 1
        last = min(self.seq - self._kept_count, first + most - 1)
        return [(seq, self._ids[self._slot(seq)]) for seq in range(first, last + 1)]
