"""Slow and dead consoles: some stop reading, some vanish, the others' delivery latency is compared."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import random
import socket
import time
from dataclasses import dataclass, field

from chaos_suite.checks import add_calls, add_consoles, settle
from chaos_suite.clients import Console, Fleet, Frame, Outcome, Sender, Tally, parse_frame
from chaos_suite.common import Row, Service, database, token
from chaos_suite.load import call_body, seed_cameras

# CALLSIGHT_CONSOLE_BUFFER_BYTES: a stalled console is cut off within a short run, once the kernel's socket
# buffers (a MB or two on loopback) are full, while a live console may lag by 25 frames.
BUFFER = 256 * 1024
CAMERAS = 3000  # dense enough that incidents carry up to 50 cameras: fat frames fill socket buffers sooner


@dataclass
class Stalled:
    """A console on a raw socket with a tiny receive buffer that stops reading after the upgrade."""

    name: str
    token: str = ""
    sock: socket.socket = field(default_factory=socket.socket)
    buffer: bytes = b""
    frames: list[Frame] = field(default_factory=list)
    close_code: int | None = None

    async def open(self, port: int, bearer: str | None = None) -> None:
        """Upgrades to a WebSocket (as a police console of the suite's key unless given a token), then reads
        nothing more until `drain`."""
        loop = asyncio.get_running_loop()
        self.token = bearer or token("police", self.name)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setblocking(False)
        await loop.sock_connect(self.sock, ("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /v1/consoles/ws?access_token={self.token} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await loop.sock_sendall(self.sock, request.encode())
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += await self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"upgrade refused: {head[:60]!r}")

    async def _recv(self) -> bytes:
        data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(self.sock, 65536), 10)
        if not data:
            raise ConnectionError("closed")
        return data

    async def _exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self.buffer += await self._recv()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    async def drain(self) -> None:
        """Reads the backlog until the close frame (its code is kept) or the end of the connection."""
        with contextlib.suppress(ConnectionError, OSError, TimeoutError, asyncio.IncompleteReadError):
            for _ in range(1_000_000):
                head = await self._exactly(2)
                length = head[1] & 0x7F
                if length >= 126:
                    length = int.from_bytes(await self._exactly(2 if length == 126 else 8), "big")
                payload = await self._exactly(length)
                if head[0] & 0x0F == 8:
                    self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                    return
                if head[0] & 0x0F == 1:
                    frame = parse_frame(payload, time.monotonic())
                    if frame.type not in ("hello", "heartbeat"):
                        self.frames.append(frame)
        self.sock.close()

    def resumed(self, ws_url: str) -> Console:
        """A console that resumes where this one's reading stopped."""
        console = Console(ws_url, self.token, frames=list(self.frames))
        console.greeted.set()
        console.last_seq = max((f.seq for f in self.frames), default=0)
        ids = [f.event_id for f in self.frames if f.event_id > 0]
        console.last_event_id = max(ids) if ids else None
        return console


async def _rss(service: Service, samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append(service.rss_mb())
        await asyncio.sleep(0.5)


@dataclass
class Phase:
    """What one load phase produced."""

    sender: Sender
    outcomes: list[Outcome]
    received: list[Console]
    rss_max_mb: float


async def _phase(
    service: Service, fleet: Fleet, calls: int, rate: float, tag: str, dead: Fleet | None
) -> Phase:
    """Sends `calls` 113 calls to a connected fleet; kills `dead` once a tenth is out; returns what came."""
    rng = random.Random(tag)
    items = [(f"{tag}-{n:05d}", call_body(f"{tag}-{n:05d}", rng)) for n in range(calls)]
    sender = Sender(service.url)
    samples: list[float] = []
    sampling = asyncio.Event()
    sampler = asyncio.create_task(_rss(service, samples, sampling))
    sending = asyncio.create_task(sender.post_all("/v1/calls", items, rate))
    if dead is not None:
        await asyncio.sleep(calls / rate / 10)
        dead.kill()
    outcomes = await sending
    await fleet.quiet()
    sampling.set()
    await sampler
    received = await fleet.collect()
    return Phase(sender, outcomes, received, max(samples))


def _tally(consoles: list[Console], expected: set[str], outcomes: list[Outcome]) -> Tally:
    tally = Tally()
    for console in consoles:
        tally.add(console, expected, {o.key: o.first_sent for o in outcomes})
    return tally


async def _resume(stalled: list[Stalled], ws: str, expected: set[str]) -> list[Console]:
    """Drains the stalled consoles, then resumes each where its reading stopped."""
    await asyncio.gather(*(s.drain() for s in stalled))
    resumed = [s.resumed(ws) for s in stalled]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(c.run(stop)) for c in resumed]
    await settle([(c, expected) for c in resumed])
    stop.set()
    await asyncio.gather(*tasks)
    return resumed


async def _drive(service: Service, db: str, live: int, bad: int, calls: int, rate: float) -> Row:
    from dispatch.calls.pipeline import incident_id

    ws = service.url.replace("http", "ws")
    base_fleet = Fleet(ws, [token("police", f"base-{n}") for n in range(live)])
    await base_fleet.start()
    base = await _phase(service, base_fleet, calls, rate, "base", None)
    fleet = Fleet(ws, [token("police", f"live-{n}") for n in range(live)])
    dead = Fleet(ws, [token("police", f"dead-{n}") for n in range(bad)])
    stalled = [Stalled(f"stalled-{n}") for n in range(bad)]
    await asyncio.gather(fleet.start(), dead.start(), *(s.open(service.port) for s in stalled))
    faulty = await _phase(service, fleet, calls, rate, "faulty", dead)
    expected = {str(incident_id(o.key)) for o in faulty.outcomes if o.status in (200, 201)}
    resumed = await _resume(stalled, ws, expected)
    row = Row("consoles")
    add_calls(row, db, faulty.sender, faulty.outcomes)
    add_consoles(row, [(c, expected) for c in faulty.received + resumed], faulty.outcomes)
    live_tally = _tally(faulty.received, expected, faulty.outcomes)
    stalled_tally = _tally(resumed, expected, faulty.outcomes)
    row.push_ms = live_tally.push_ms()
    base_p99 = _tally(base.received, set(), base.outcomes).push_ms()[1]
    row.extra.update(
        consoles={"live": live, "stalled": bad, "vanished": bad},
        live={"missed": live_tally.missed, "duplicated": live_tally.duplicated},
        stalled_resumed={"missed": stalled_tally.missed, "duplicated": stalled_tally.duplicated},
        baseline_push_p99_ms=round(base_p99, 1),
        p99_ratio=round(row.push_ms[1] / base_p99, 2) if base_p99 else None,
        stalled_closed_4008=sum(1 for s in stalled if s.close_code == 4008),
        cut_off_metric=service.metric("callsight_consoles_cut_off_total"),
        live_disconnected=sum(1 for c in faulty.received if c.closes),
        rss_mb={"baseline_max": round(base.rss_max_mb, 1), "faulty_max": round(faulty.rss_max_mb, 1)},
        sockets_after=service.sockets(),
        service_errors_logged=service.errors_logged(),
    )
    return row


async def run(consoles: int = 500, bad: int = 50, calls: int = 600, rate: float = 20.0) -> Row:
    """`consoles` connected, `bad` of them stalled and `bad` vanished, against a run without them."""
    with database("consoles") as db:
        service = Service(db, {"CALLSIGHT_CONSOLE_BUFFER_BYTES": str(BUFFER)})
        try:
            await asyncio.to_thread(service.start)
            seed_cameras(service, CAMERAS)
            return await _drive(service, db, consoles - 2 * bad, bad, calls, rate)
        finally:
            service.close()
