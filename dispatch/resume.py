"""Bringing a new connection up to date: its hold after hello, then what it missed (from memory or the
events table) or a reset."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from prometheus_client import Counter

from dispatch.frames import control
from dispatch.replay import Replays
from dispatch.settings import Settings
from dispatch.storage.events import Event
from dispatch.streams import HOLD_S, Connection, Stream

log = logging.getLogger(__name__)
CutOff = Callable[[Stream, Connection], None]
# Events read back from the events table per query while a console catches up. Decoded, an incident event
# of 8.5 kB weighs 24 KiB: fifty supervisors catching up at once hold 100 each, some 120 MB.
FETCH = 100


class StoredEvents(Protocol):
    """The events table, as resume reads it."""

    async def after(self, event_id: int, not_before: datetime) -> list[Event]:
        """Events newer than `event_id`, oldest first."""

    async def by_ids(self, event_ids: list[int], not_before: datetime) -> list[Event]:
        """The events of these ids, in id order."""


class Resumes:
    """Decides what a held connection is sent before its live frames: what it missed, or a reset."""

    def __init__(
        self,
        settings: Settings,
        stored: StoredEvents,
        replays: Replays,
        cut_off: CutOff,
        read_back: Counter,
        published: Callable[[int], bool],
    ) -> None:
        self.settings = settings
        self.published = published
        self.stored = stored
        self.read_back = read_back
        self.replays = replays
        self.cut_off = cut_off

    async def release_later(self, stream: Stream, conn: Connection) -> None:
        """Ends the hold of a connection that has not resumed after HOLD_S."""
        await asyncio.sleep(HOLD_S)
        conn.release = None  # the hold is over: a resume from now on must not cancel the release under way
        await self.start(stream, conn)

    async def start(self, stream: Stream, conn: Connection) -> None:
        """Live frames for a console that did not resume (it subscribed or stayed silent): all since hello."""
        async with conn.lock:
            if conn.held:
                self._settle(stream)
                await self._release(stream, conn, conn.hello_seq)

    async def resume(
        self, stream: Stream, conn: Connection, after_seq: int, after_event_id: int | None
    ) -> None:
        """Replays what the console missed after `after_seq`, or sends reset when that is gone: from memory,
        from the events table by the ids numbered for it when no longer kept here, or everything after
        `after_event_id` when it comes from another instance."""
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
        elif stream.pending is not None or not await self._replayable(stream, after_seq):
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
            return
        if after_seq < conn.hello_seq and not await self._replayable(stream, after_seq):
            self._reset(stream, conn)
            return
        while after_seq < conn.hello_seq:
            missed = await self._next(stream, after_seq)
            gap = [item for item in missed or [] if item[0] <= conn.hello_seq]
            if not gap or not await self.replays.send(stream, conn, gap):
                self.cut_off(stream, conn)
                return
            after_seq = gap[-1][0]

    async def _replayable(self, stream: Stream, after_seq: int) -> bool:
        """Whether all after `after_seq` can be sent as numbered: kept here, or still in the events table
        within the resume window (the oldest is, so the newer are)."""
        if stream.holds(after_seq):
            return True
        oldest = stream.forgotten(after_seq, 1) if stream.numbers(after_seq) else []
        return bool(oldest) and bool(await self._read(oldest))

    async def _next(self, stream: Stream, after_seq: int) -> list[tuple[int, Event]] | None:
        """The next slice of what the stream numbered after `after_seq`, oldest first: from memory while kept
        (no await: nothing is recorded meanwhile), else read back; None when some of it is gone."""
        if stream.holds(after_seq):
            return stream.since(after_seq)
        missed = await self._read(stream.forgotten(after_seq, FETCH)) if stream.numbers(after_seq) else None
        self.read_back.inc(len(missed or []))
        return missed

    async def _read(self, numbered: list[tuple[int, int]]) -> list[tuple[int, Event]] | None:
        window = datetime.now(UTC) - timedelta(seconds=self.settings.resume_window_s)
        try:
            found = {e.event_id: e for e in await self.stored.by_ids([i for _, i in numbered], window)}
        except Exception:
            log.exception("reading events back for a resume failed")
            return None
        if any(event_id not in found for _, event_id in numbered):
            return None
        return [(seq, found[event_id]) for seq, event_id in numbered]

    @staticmethod
    def _reset(stream: Stream, conn: Connection) -> None:
        conn.offer(control("reset", stream.seq, reason="the missed events are no longer kept"))

    async def _replay_from_store(self, stream: Stream, after_seq: int, after_event_id: int) -> None:
        # New here: what the console missed is in the events table; events that arrived live meanwhile were
        # kept in `pending`. Both go out in id order (ids follow commit order), each once.
        window = datetime.now(UTC) - timedelta(seconds=self.settings.resume_window_s)
        try:
            missed = await self.stored.after(after_event_id, window)
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
            if not self.published(event.event_id):  # read from the table before its announcement came
                stream.recorded_ahead(event.event_id)

    async def _release(self, stream: Stream, conn: Connection, after_seq: int) -> None:
        """Sends a held connection all after `after_seq`, waiting for room, then lets live frames in."""
        while conn.held and not conn.transport.is_closing():
            missed = await self._next(stream, after_seq)
            if missed == []:
                conn.held = False  # no await since the check: nothing can slip in between
                return
            if missed is None or not await self.replays.send(stream, conn, missed):
                # Not reading, or what it missed left the events table meanwhile: it may resume (to a reset).
                self.cut_off(stream, conn)
                return
            after_seq = missed[-1][0]
