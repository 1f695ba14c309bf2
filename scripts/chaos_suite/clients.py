"""A retrying signed sender and a resuming console, as a telephony system and a dispatcher console behave."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import queue
import time
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import aiohttp
import orjson

from chaos_suite.common import percentile, signed

RETRY_AFTER_CAP_S = 5.0


@dataclass
class Outcome:
    """What became of one posted body: its final status (0 when never answered) and timings."""

    key: str
    status: int = 0
    first_sent: float = 0.0
    answered: float = 0.0
    attempts: int = 0


@dataclass
class Sender:
    """Posts signed bodies, retrying the same body on connection errors and on 503 with Retry-After."""

    url: str
    deadline_s: float = 120.0
    statuses: Counter[int] = field(default_factory=Counter)
    missing_retry_after: int = 0
    answered: int = 0
    answers: list[tuple[float, float]] = field(default_factory=list)
    accepted: list[tuple[float, str]] = field(default_factory=list)  # (answered at, key) of 2xx answers

    async def post(self, session: aiohttp.ClientSession, path: str, key: str, body: bytes) -> Outcome:
        """Posts until answered with anything but 503, or until the deadline; every answer is counted."""
        outcome = Outcome(key, first_sent=time.monotonic())
        pause = 0.05
        while time.monotonic() - outcome.first_sent < self.deadline_s and outcome.attempts < 2000:
            outcome.attempts += 1
            try:
                async with session.post(self.url + path, data=body, headers=signed(body)) as response:
                    await response.read()
                    self.statuses[response.status] += 1
                    if response.status != 503:
                        outcome.status, outcome.answered = response.status, time.monotonic()
                        self.answered += 1
                        self.answers.append(
                            (outcome.answered, (outcome.answered - outcome.first_sent) * 1000)
                        )
                        if response.status < 300:
                            self.accepted.append((outcome.answered, key))
                        return outcome
                    pause = self._retry_after(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError):
                self.statuses[0] += 1
                pause = min(1.0, pause * 2)
            await asyncio.sleep(pause)
        return outcome

    def _retry_after(self, value: str | None) -> float:
        if value is None:
            self.missing_retry_after += 1
            return 1.0
        try:
            return min(RETRY_AFTER_CAP_S, max(0.05, float(value)))
        except ValueError:
            self.missing_retry_after += 1
            return 1.0

    async def post_all(
        self, path: str, items: Iterable[tuple[str, bytes]], rate: float | None, concurrency: int = 16
    ) -> list[Outcome]:
        """Posts each item to `path` ({key}: the item's key) at `rate` per second, `concurrency` at once."""
        gate = asyncio.Semaphore(concurrency)
        timeout = aiohttp.ClientTimeout(total=15)
        async with aiohttp.ClientSession(timeout=timeout) as session:

            async def one(key: str, body: bytes) -> Outcome:
                async with gate:
                    return await self.post(session, path.format(key=key), key, body)

            tasks: list[asyncio.Task[Outcome]] = []
            start = time.monotonic()
            for n, (key, body) in enumerate(items):
                if rate:  # without a rate, the gate alone paces the senders
                    await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
                tasks.append(asyncio.create_task(one(key, body)))
            return list(await asyncio.gather(*tasks))

    def count_5xx(self) -> int:
        """5xx answers other than 503 (which is the documented 'retry' answer)."""
        return sum(n for status, n in self.statuses.items() if status >= 500 and status != 503)


def answer_ms(outcomes: Sequence[Outcome]) -> tuple[float, float]:
    """p50 and p99 of first send to final answer, milliseconds, over answered bodies."""
    times = [(o.answered - o.first_sent) * 1000 for o in outcomes if o.status]
    return percentile(times, 50), percentile(times, 99)


class Frame(NamedTuple):
    """The parts of a received console frame the suite checks."""

    type: str
    seq: int
    event_id: int
    incident_id: str
    call_id: str
    degraded: bool
    at: float


def parse_frame(text: str | bytes, at: float) -> Frame:
    """The checked parts of one frame, received at `at`."""
    data = orjson.loads(text)
    incident = data.get("incident") or {}
    event_id = int(data.get("event_id", 0))
    incident_id = str(incident.get("incident_id") or data.get("incident_id") or "")
    return Frame(
        data["type"],
        int(data.get("seq", 0)),
        event_id,
        incident_id,
        str(incident.get("call_id", "")),
        bool(incident.get("degraded", False)),
        at,
    )


@dataclass
class Console:
    """A dispatcher console: reconnects with backoff and resumes with after_seq and after_event_id."""

    ws_url: str
    token: str
    resume: bool = True
    frames: list[Frame] = field(default_factory=list)
    # With lean on, only incident.opened and degraded frames are kept whole; the others as event ids (a
    # 30-minute soak delivers tens of millions of frames).
    lean: bool = False
    others: array[int] = field(default_factory=lambda: array("q"))
    closes: list[int | None] = field(default_factory=list)
    resets: int = 0
    # Seqs skipped over and never received since: events the service numbered for this console and lost
    # (a miss here is real; an incident missing only past the highest seq may just be late).
    gaps: set[int] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)  # this client's own faults, by exception type
    last_seq: int = 0  # the highest seq received
    last_event_id: int | None = None  # the highest event id received with no seq gap below it
    above_gap: dict[int, int] = field(default_factory=dict)  # event ids received above a gap, by seq
    hello_seq: int = 0
    fresh_connection: bool = True  # nothing received since this connection's hello
    redelivered: int = 0  # frames whose seq this console already had (a resume from below a gap)
    greeted: asyncio.Event = field(default_factory=asyncio.Event)

    def _advance(self, frame: Frame) -> None:
        if frame.seq > self.last_seq + 1:
            self.gaps.update(range(self.last_seq + 1, frame.seq))
        self.gaps.discard(frame.seq)
        self.last_seq = max(self.last_seq, frame.seq)
        if frame.event_id > 0:
            self.above_gap[frame.seq] = frame.event_id
        if not self.gaps:
            self._fold_above_gap()

    def _fold_above_gap(self) -> None:
        if self.above_gap:
            self.last_event_id = max(self.last_event_id or 0, *self.above_gap.values())
            self.above_gap.clear()

    async def run(self, stop: asyncio.Event) -> None:
        """Stays connected until `stop`, reconnecting after every close or failure (for as long as a soak
        lasts: a console cut off late must still resume)."""
        pause = 0.1
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                try:
                    await self._session(session, stop)
                    pause = 0.1
                except (aiohttp.ClientError, TimeoutError, ConnectionError):
                    pass  # the service cut it off or went away: reconnect
                except Exception as exc:  # counted apart, so that a client fault is not taken for a loss
                    self.failures.append(type(exc).__name__)
                if not stop.is_set():
                    await asyncio.sleep(pause)
                    pause = min(1.0, pause * 2)

    async def _session(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        url = f"{self.ws_url}/v1/consoles/ws?access_token={self.token}"
        async with session.ws_connect(
            url, max_msg_size=0, timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=10)
        ) as ws:
            # One wait per connection, not per frame: the reader runs until the socket closes or `stop`.
            closing, reading = asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._read(ws))
            try:
                await asyncio.wait({reading, closing}, return_when=asyncio.FIRST_COMPLETED)
                if reading.done():
                    reading.result()  # the reader's own failure reaches run(), where it is counted
            finally:
                closing.cancel()
                reading.cancel()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            message = await ws.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                self.closes.append(ws.close_code)
                return
            await self._receive(ws, parse_frame(message.data, time.monotonic()))

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse, frame: Frame) -> None:
        if frame.type == "hello":
            self.hello_seq, self.fresh_connection = frame.seq, True
            if self.resume and (self.greeted.is_set() or frame.seq > 0):
                # From below the lowest gap: a late resume's gap comes after live frames, and a console cut
                # off while it came must not skip the rest of it by resuming after the highest seq.
                after = min(self.gaps) - 1 if self.gaps else self.last_seq
                resume: dict[str, Any] = {"type": "resume", "after_seq": after}
                if self.last_event_id is not None:
                    resume["after_event_id"] = self.last_event_id
                await ws.send_str(orjson.dumps(resume).decode())
            self.greeted.set()
            return
        if frame.type == "reset":
            self.resets += 1
            # What was missed is gone (counted as missed incidents, not gaps). Frames since hello follow,
            # unless they came live before this reset.
            self.gaps.clear()
            self._fold_above_gap()
            if self.fresh_connection:
                self.last_seq = self.hello_seq
            return
        if frame.type in ("heartbeat", "error"):
            return
        if frame.seq <= self.last_seq and frame.seq not in self.gaps:
            self.redelivered += 1
            return
        self._advance(frame)
        self.fresh_connection = False
        if self.lean and frame.type != "incident.opened" and not frame.degraded and frame.event_id > 0:
            self.others.append(frame.event_id)
        else:
            self.frames.append(frame)


@dataclass
class Tally:
    """What consoles received against what was stored: delivered, missed, duplicated, push latency."""

    delivered: int = 0
    missed: int = 0
    duplicated: int = 0
    degraded: int = 0
    most_missed: int = 0  # by one console: a few consoles missing much is a stuck console, not scattered loss
    latencies: list[float] = field(default_factory=list)

    def add(self, console: Console, expected: set[str], sent: dict[str, float]) -> None:
        """Adds one console: `expected` are the incident ids it must see opened, `sent` call send times."""
        opened: Counter[str] = Counter()
        others: Counter[int] = Counter(console.others)
        self.delivered += len(console.others)
        for frame in console.frames:
            if frame.degraded or frame.event_id < 0:
                self.degraded += 1
                continue
            self.delivered += 1
            if frame.type == "incident.opened":
                opened[frame.incident_id] += 1
                if frame.call_id in sent and opened[frame.incident_id] == 1:
                    self.latencies.append((frame.at - sent[frame.call_id]) * 1000)
            else:
                others[frame.event_id] += 1
        missed = len(expected - set(opened))
        self.missed += missed
        self.most_missed = max(self.most_missed, missed)
        self.duplicated += sum(n - 1 for n in opened.values()) + sum(n - 1 for n in others.values())

    def push_ms(self) -> tuple[float, float]:
        """p50 and p99 of call sent to incident.opened received."""
        return percentile(self.latencies, 50), percentile(self.latencies, 99)


async def _fleet(
    ws_url: str, tokens: list[str], lean: bool, ready: Any, stop: Any, out: Any, received: Any
) -> None:
    consoles = [Console(ws_url, t, lean=lean) for t in tokens]
    stopping = asyncio.Event()
    tasks = [asyncio.create_task(c.run(stopping)) for c in consoles]
    for console in consoles:
        await asyncio.wait_for(console.greeted.wait(), 60)
        ready.put(1)
    while not stop.is_set():
        received.value = sum(len(c.frames) + len(c.others) for c in consoles)
        await asyncio.sleep(0.05)
    stopping.set()
    await asyncio.wait(tasks, timeout=10)
    out.put([(c.frames, c.others, c.closes, c.resets, c.gaps, c.failures) for c in consoles])


def fleet_main(
    ws_url: str, tokens: list[str], lean: bool, ready: Any, stop: Any, out: Any, received: Any
) -> None:
    """Child-process entry: consoles that record every frame until told to stop."""
    asyncio.run(_fleet(ws_url, tokens, lean, ready, stop, out, received))


class Fleet:
    """Consoles in a child process, so that their reading does not compete with the senders' loop."""

    def __init__(self, ws_url: str, tokens: list[str], lean: bool = False) -> None:
        context = mp.get_context("spawn")
        self.ready, self.out, self.stop_event = context.Queue(), context.Queue(), context.Event()
        self.size = len(tokens)
        self.received = context.RawValue("q", 0)  # frames recorded so far, all consoles together
        self.process = context.Process(
            target=fleet_main,
            args=(ws_url, tokens, lean, self.ready, self.stop_event, self.out, self.received),
            daemon=True,
        )

    async def start(self, timeout_s: float = 90.0) -> None:
        """Starts the process and waits until every console has its hello."""
        self.process.start()
        ends = time.monotonic() + timeout_s
        ready = 0
        while ready < self.size:
            if not self.process.is_alive() or time.monotonic() > ends:
                raise RuntimeError(f"console fleet: {ready} of {self.size} consoles connected")
            with contextlib.suppress(queue.Empty):
                ready += await asyncio.to_thread(self.ready.get, True, 0.5)

    async def quiet(self, quiet_s: float = 3.0, cap_s: float = 600.0) -> float:
        """Waits until no console has recorded a frame for `quiet_s`: frames still on their way when the
        sender stops are late, not missed (consoles that fell behind replay minutes of backlog). Returns the
        seconds waited."""
        began = time.monotonic()
        ends, last, still_since = began + cap_s, -1, began
        while time.monotonic() < ends:
            if self.received.value != last:
                last, still_since = self.received.value, time.monotonic()
            elif time.monotonic() - still_since >= quiet_s:
                break
            await asyncio.sleep(0.2)
        return round(time.monotonic() - began, 1)

    async def collect(self) -> list[Console]:
        """Stops the consoles and returns what each received (frames, event ids, close codes, resets)."""
        self.stop_event.set()
        # No fixed deadline: a 30-minute soak's frames take minutes to pickle, so wait while the fleet lives.
        received: list[tuple[list[Frame], array[int], list[int | None], int, set[int], list[str]]] | None = (
            None
        )
        while received is None:
            alive = self.process.is_alive()  # before the get: a fleet that ended has flushed what it sent
            with contextlib.suppress(queue.Empty):
                received = await asyncio.to_thread(self.out.get, True, 1.0)
            if received is None and not alive:
                raise RuntimeError("console fleet ended without reporting what it received")
        await asyncio.to_thread(self.process.join, 10)
        return [
            Console(
                "", "", frames=frames, others=others, closes=closes, resets=resets, gaps=gaps, failures=failed
            )
            for frames, others, closes, resets, gaps, failed in received
        ]

    def kill(self) -> None:
        """SIGKILL: its sockets vanish without a close frame."""
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
