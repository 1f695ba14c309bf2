"""Crash: the service is SIGKILLed and restarted under a retrying sender and a resuming console."""

from __future__ import annotations

import asyncio
import random
import time

from chaos_suite.checks import add_calls, add_consoles, expected_for, settle
from chaos_suite.clients import Console, Sender
from chaos_suite.common import Row, Service, database, token
from chaos_suite.load import call_body, seed_cameras

HOTLINES = ("113", "114", "115")


async def _killer(service: Service, sender: Sender, calls: int, kills: int) -> int:
    """Kills the service each time another share of the calls has been answered; returns the kills done."""
    done = 0
    ends = time.monotonic() + 600
    for k in range(1, kills + 1):
        while sender.answered < k * calls // (kills + 1) and time.monotonic() < ends:
            await asyncio.sleep(0.02)
        if time.monotonic() >= ends:
            break
        service.kill()
        done += 1
        await asyncio.sleep(0.3)
        await asyncio.to_thread(service.start)
    return done


async def _drive(service: Service, db: str, calls: int, rate: float | None, kills: int) -> Row:
    row = Row("crash")
    role = "supervisor"
    console = Console(service.url.replace("http", "ws"), token(role, "crash-console"))
    stop = asyncio.Event()
    watching = asyncio.create_task(console.run(stop))
    await asyncio.wait_for(console.greeted.wait(), 30)
    rng = random.Random(1)
    items = [(f"crash-{n:05d}", call_body(f"crash-{n:05d}", rng, rng.choice(HOTLINES))) for n in range(calls)]
    sender = Sender(service.url, deadline_s=300)
    sending = asyncio.create_task(sender.post_all("/v1/calls", items, rate))
    row.extra["kills"] = await _killer(service, sender, calls, kills)
    outcomes = await sending
    expected = expected_for(db, role)
    await settle([(console, expected)])
    stop.set()
    await asyncio.wait_for(watching, 30)
    add_calls(row, db, sender, outcomes)
    add_consoles(row, [(console, expected)], outcomes)
    row.extra["service_errors_logged"] = service.errors_logged()
    return row


async def run(calls: int = 5000, rate: float | None = None, kills: int = 3) -> Row:
    """Posts `calls` calls (at `rate` per second, or as fast as 16 senders go) through `kills` SIGKILLs."""
    with database("crash") as db:
        service = Service(db)
        try:
            await asyncio.to_thread(service.start)
            seed_cameras(service, 400)
            return await _drive(service, db, calls, rate, kills)
        finally:
            service.close()
