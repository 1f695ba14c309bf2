"""Soak: calls, detections and consoles at a steady rate; memory, sockets and p99 sampled over time."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import aiohttp

from chaos_suite.checks import add_calls, add_consoles, expected_for
from chaos_suite.clients import Fleet, Sender
from chaos_suite.common import Row, Service, database, percentile, token
from chaos_suite.load import call_body, load_demo_city

ROLES = ("police", "fire", "medical", "supervisor")
KINDS = ("vehicle", "person", "fire", "smoke", "crowd", "accident", "plate", "face")
OPEN_S = 20.0  # each call is closed this long after it was opened
City = tuple[list[tuple[float, float]], list[str]]  # camera positions, connected camera ids


def _detections(
    rate: float, seconds: float, rng: random.Random, cameras: list[str]
) -> Iterator[tuple[str, bytes]]:
    """Batches of detections, ten a second, stamped when they are taken (so just before they are sent)."""
    size = max(1, round(rate / 10))
    for batch in range(int(seconds * 10)):
        now = datetime.now(UTC).isoformat()
        items = [
            {
                "detection_id": f"soak-{batch}-{n}",
                "camera_id": rng.choice(cameras),
                "detected_at": now,
                "kind": rng.choice(KINDS),
                "label": f"51F-{rng.randrange(1000):03d}",
                "confidence": 0.9,
            }
            for n in range(size)
        ]
        yield f"batch-{batch}", json.dumps({"detections": items}).encode()


async def _sample(service: Service, senders: list[Sender], every_s: float, stop: asyncio.Event) -> list[Any]:
    samples: list[dict[str, Any]] = []
    started = last = time.monotonic()
    while not stop.is_set():
        await asyncio.sleep(every_s)
        now = time.monotonic()
        window = [ms for sender in senders for at, ms in sender.answers if last <= at < now]
        sample = {
            "t_s": round(now - started),
            "rss_mb": round(service.rss_mb(), 1),
            "sockets": service.sockets(),
            "answers": len(window),
            "answer_p99_ms": round(percentile(window, 99), 1) if window else None,
        }
        samples.append(sample)
        print("soak: " + ", ".join(f"{k} {v}" for k, v in sample.items()), file=sys.stderr, flush=True)
        last = now
    return samples


def _stability(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Growth after the first quarter (warm-up): memory, sockets, and the spread of the windows' p99."""
    steady = samples[len(samples) // 4 :] or samples
    p99s = [s["answer_p99_ms"] for s in steady if s["answer_p99_ms"] is not None]
    return {
        "rss_growth_mb": round(steady[-1]["rss_mb"] - steady[0]["rss_mb"], 1) if steady else None,
        "rss_max_mb": max((s["rss_mb"] for s in samples), default=None),
        "sockets_min_max": [min(s["sockets"] for s in steady), max(s["sockets"] for s in steady)]
        if steady
        else None,
        "window_p99_ms_min_max": [min(p99s), max(p99s)] if p99s else None,
    }


async def _close_after_answers(callers: Sender, closers: Sender, calling: asyncio.Task[Any]) -> None:
    """Closes each call OPEN_S after it was answered, as a dispatcher would: never before it is stored, or
    open incidents (and the detection events they draw) pile up when the service lags."""
    closing: list[asyncio.Task[Any]] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        while not calling.done() or len(closing) < len(callers.accepted):
            if len(closing) == len(callers.accepted):
                await asyncio.sleep(0.05)
                continue
            at, key = callers.accepted[len(closing)]
            await asyncio.sleep(max(0.0, at + OPEN_S - time.monotonic()))
            closing.append(asyncio.create_task(closers.post(session, f"/v1/calls/{key}/close", key, b"{}")))
        await asyncio.gather(*closing)


async def _drive(
    service: Service, db: str, city: City, minutes: float, rates: tuple[float, float], n: int
) -> Row:
    (calls_s, detections_s), (places, ai) = rates, city
    seconds = minutes * 60
    roles = [ROLES[i % len(ROLES)] for i in range(n)]
    fleet = Fleet(
        service.url.replace("http", "ws"), [token(r, f"soak-{i}") for i, r in enumerate(roles)], lean=True
    )
    await fleet.start()
    rng = random.Random(5)
    keys = [f"soak-{i:06d}" for i in range(int(calls_s * seconds))]
    # Callers are where the cameras are (dense in the core); detections come from the connected AI cameras.
    calls = [(k, call_body(k, rng, rng.choice(("113", "114", "115")), rng.choice(places))) for k in keys]
    callers, closers, cameras = Sender(service.url), Sender(service.url), Sender(service.url)
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample(service, [callers, cameras], max(5.0, seconds / 60), stop))

    calling = asyncio.create_task(callers.post_all("/v1/calls", calls, calls_s))
    outcomes, _, _ = await asyncio.gather(
        calling,
        cameras.post_all("/v1/detections", _detections(detections_s, seconds, rng, ai), 10.0),
        _close_after_answers(callers, closers, calling),
    )
    stop.set()
    samples = await sampler
    waited_s = await fleet.quiet()
    consoles = await fleet.collect()
    row = Row("soak")
    add_calls(row, db, callers, outcomes)
    row.errors_5xx += closers.count_5xx() + cameras.count_5xx()
    add_consoles(row, [(c, expected_for(db, r)) for c, r in zip(consoles, roles, strict=True)], outcomes)
    row.extra.update(
        minutes=minutes,
        quiet_wait_s=waited_s,
        rates={"calls_s": calls_s, "detections_s": detections_s, "consoles": n},
        detection_batches={str(k): v for k, v in sorted(cameras.statuses.items())},
        closes={str(k): v for k, v in sorted(closers.statuses.items())},
        samples=samples,
        **_stability(samples),
        service_errors_logged=service.errors_logged(),
    )
    return row


async def run(
    minutes: float = 30.0, calls_s: float = 50.0, detections_s: float = 500.0, consoles: int = 200
) -> Row:
    """`minutes` of `calls_s` calls and `detections_s` detections a second with `consoles` consoles."""
    with database("soak") as db:
        service = Service(db)
        try:
            city = await asyncio.to_thread(load_demo_city, db)
            await asyncio.to_thread(service.start)
            return await _drive(service, db, city, minutes, (calls_s, detections_s), consoles)
        finally:
            service.close()
