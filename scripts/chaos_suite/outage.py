"""Database outage: the service's database link is cut through a TCP proxy in the middle of a load."""

from __future__ import annotations

import asyncio
import random
import time
from urllib.parse import urlparse

from chaos_suite.checks import add_calls, add_consoles, expected_for, settle
from chaos_suite.clients import Console, Sender
from chaos_suite.common import Row, Service, database, token
from chaos_suite.load import call_body, seed_cameras
from tests.integration.proxy import Proxy

ROLES = ("police", "supervisor")


async def _watch_readyz(service: Service, until: asyncio.Event) -> set[int]:
    """Every /readyz status seen while the outage lasts."""
    seen: set[int] = set()
    while not until.is_set():
        seen.add((await asyncio.to_thread(service.get, "/readyz"))[0])
        await asyncio.sleep(0.5)
    return seen


async def _outage(proxy: Proxy, service: Service, start_s: float, cut_s: float) -> dict[str, object]:
    await asyncio.sleep(start_s)
    before = await asyncio.to_thread(service.metric, "callsight_degraded_pushes_total")
    await proxy.cut()
    over = asyncio.Event()
    watching = asyncio.create_task(_watch_readyz(service, over))
    await asyncio.sleep(cut_s)
    over.set()
    during = sorted(await watching)
    await proxy.start()
    ends = time.monotonic() + 60
    while (await asyncio.to_thread(service.get, "/readyz"))[0] != 200 and time.monotonic() < ends:
        await asyncio.sleep(0.2)
    return {
        "cut_s": cut_s,
        "readyz_during": during,
        "ready_again_s": round(time.monotonic() - (ends - 60), 1),
        "degraded_pushes": await asyncio.to_thread(service.metric, "callsight_degraded_pushes_total")
        - before,
        "service_starts": service.starts,
    }


async def _drive(service: Service, db: str, proxy: Proxy, seconds: float, rate: float, cut_s: float) -> Row:
    row = Row("outage")
    ws = service.url.replace("http", "ws")
    consoles = [Console(ws, token(role, f"outage-{role}")) for role in ROLES]
    stop = asyncio.Event()
    watching = [asyncio.create_task(c.run(stop)) for c in consoles]
    await asyncio.wait_for(asyncio.gather(*(c.greeted.wait() for c in consoles)), 30)
    rng = random.Random(2)
    calls = int(rate * seconds)
    keys = [f"outage-{n:05d}" for n in range(calls)]
    items = [(key, call_body(key, rng, rng.choice(("113", "114")))) for key in keys]
    sender = Sender(service.url, deadline_s=cut_s + 120)
    # Every call is its own retry loop, as a telephony system posts each new call whatever others wait for.
    sending = asyncio.create_task(sender.post_all("/v1/calls", items, rate, concurrency=len(items)))
    row.extra.update(await _outage(proxy, service, (seconds - cut_s) / 2, cut_s))
    outcomes = await sending
    pairs = [(c, expected_for(db, role)) for c, role in zip(consoles, ROLES, strict=True)]
    await settle(pairs)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*watching), 30)
    add_calls(row, db, sender, outcomes)
    add_consoles(row, pairs, outcomes)
    row.extra["service_errors_logged"] = service.errors_logged()
    return row


async def run(seconds: float = 60.0, rate: float = 40.0, cut_s: float = 20.0) -> Row:
    """A load of `rate` calls/s for `seconds`, the database cut for `cut_s` in the middle."""
    with database("outage") as db:
        target = urlparse(db)
        proxy = Proxy(target.hostname or "127.0.0.1", target.port or 5432)
        await proxy.start()
        service = Service(db.replace(f":{target.port}/", f":{proxy.port}/"))
        try:
            await asyncio.to_thread(service.start)
            await asyncio.to_thread(seed_cameras, service, 400)
            return await _drive(service, db, proxy, seconds, rate, cut_s)
        finally:
            await asyncio.to_thread(service.close)
            await proxy.cut()
