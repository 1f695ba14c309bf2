"""Call-to-console latency with 200 consoles in another process, at a fixed rate and at rising rates.

Starts `callsight serve` on a throw-away database loaded with the demo city, connects the consoles from a
child process, posts signed 113 calls, and reports when each console received each `incident.opened`.
CLOCK_MONOTONIC is system-wide on Linux, so times taken in the two processes compare directly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import websockets

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-0123456789abcdef0123456789"
TOKEN_KEY = "bench-token-key-0123456789abcdef0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


async def _consoles(url: str, tokens: list[str], ready: Any, stop: Any, out: Any) -> None:
    received: dict[str, list[float]] = {}

    async def one(token: str) -> None:
        async with websockets.connect(
            f"{url}/v1/consoles/ws?access_token={token}", compression=None, max_size=2**22
        ) as ws:
            ready.put(1)
            async for text in ws:
                now = time.monotonic()
                # A full JSON parse of every frame would make this process the bottleneck: find the id only.
                if '"type":"incident.opened"' in text[:80]:
                    start = text.index('"call_id":"') + 11
                    received.setdefault(text[start : text.index('"', start)], []).append(now)

    tasks = [asyncio.create_task(one(t)) for t in tokens]
    while not stop.is_set():
        await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    out.put(received)


def _console_process(url: str, tokens: list[str], ready: Any, stop: Any, out: Any) -> None:
    asyncio.run(_consoles(url, tokens, ready, stop, out))


def _call(call_id: str, rng: random.Random) -> bytes:
    body = {
        "call_id": call_id,
        "hotline": "113",
        "received_at": "2026-11-26T20:15:03+07:00",
        "caller": {"number": "+84901234567"},
        "location": {
            "lat": rng.uniform(10.765, 10.790),
            "lon": rng.uniform(106.685, 106.705),
            "uncertainty_m": rng.uniform(5, 80),
            "confidence": 0.68,
            "source": "aml",
        },
    }
    return json.dumps(body).encode()


async def _post_at(url: str, rate: float, seconds: float, prefix: str) -> dict[str, float]:
    from dispatch.auth.signing import signed_headers

    rng = random.Random(prefix)
    sent: dict[str, float] = {}
    async with aiohttp.ClientSession() as session:
        start = time.monotonic()
        tasks = []
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            call_id = f"{prefix}-{n}"
            body = _call(call_id, rng)
            headers = {**signed_headers("bench", SECRET.encode(), body), "Content-Type": "application/json"}
            sent[call_id] = time.monotonic()
            tasks.append(asyncio.create_task(session.post(f"{url}/v1/calls", data=body, headers=headers)))
        for response in await asyncio.gather(*tasks):
            assert response.status == 201, response.status
    return sent


def _latencies(sent: dict[str, float], received: dict[str, list[float]], consoles: int) -> dict[str, Any]:
    first, last, complete = [], [], 0
    for call_id, at in sent.items():
        times = received.get(call_id, [])
        if times:
            first.append((min(times) - at) * 1000)
            last.append((max(times) - at) * 1000)
        complete += len(times) == consoles
    return {
        "calls": len(sent),
        "delivered_to_all": complete,
        "all_consoles_ms": {"p50": _pct(last, 50), "p99": _pct(last, 99)},
        "first_console_ms": {"p50": _pct(first, 50), "p99": _pct(first, 99)},
    }


def _prepare_database(dsn_base: str) -> str:
    import psycopg

    from dispatch.storage.migrate import upgrade

    admin = dsn_base.rsplit("/", 1)[0] + "/postgres"
    url = admin.rsplit("/", 1)[0] + "/callsight_bench"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'callsight_bench'").fetchone():
            conn.execute('CREATE DATABASE "callsight_bench"')
    upgrade(url)
    with psycopg.connect(url) as conn:
        count = conn.execute("SELECT count(*) FROM cameras").fetchone()
    if not count or count[0] == 0:
        env = {**os.environ, "CALLSIGHT_DATABASE_URL": url}
        subprocess.run([str(Path(sys.executable).parent / "callsight"), "demo-city"], env=env, check=True)
    return url


def _start_service(db: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CALLSIGHT_DATABASE_URL": db,
        "CALLSIGHT_PORT": str(port),
        "CALLSIGHT_WEBHOOK_SECRETS": f"bench={SECRET}",
        "CALLSIGHT_TOKEN_SECRET": TOKEN_KEY,
        "CALLSIGHT_LOG_LEVEL": "WARNING",
        "CALLSIGHT_CONSOLE_QUEUE": "100000",
    }
    process = subprocess.Popen([str(Path(sys.executable).parent / "callsight"), "serve"], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.3)
    time.sleep(1.0)
    return process


async def _run(url: str, args: argparse.Namespace, received_queue: Any, stop: Any) -> dict[str, Any]:
    results: dict[str, Any] = {"consoles": args.consoles}
    run = int(time.time())  # call ids unique per run: the bench database is kept between runs
    results["steady"] = {"rate": args.rate, "sent": await _post_at(url, args.rate, args.seconds, f"s{run}")}
    results["ramp"] = []
    for rate in args.ramp:
        results["ramp"].append(
            {"rate": rate, "sent": await _post_at(url, rate, args.ramp_seconds, f"r{run}-{rate}")}
        )
    await asyncio.sleep(2.0)
    stop.set()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--consoles", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second for the latency figures")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--ramp", type=float, nargs="*", default=[50, 100, 150, 200])
    parser.add_argument("--ramp-seconds", type=float, default=10.0, help="60 for the full sustained figure")
    args = parser.parse_args()

    from dispatch.auth.tokens import issue
    from dispatch.settings import Settings

    db = _prepare_database(os.environ.get("CALLSIGHT_DATABASE_URL") or Settings().dsn)
    port = _free_port()
    service = _start_service(db, port)
    url = f"http://127.0.0.1:{port}"
    tokens = [issue(TOKEN_KEY.encode(), "police", 3600, None, f"bench-{n}") for n in range(args.consoles)]
    ready, out, stop = mp.Queue(), mp.Queue(), mp.Event()
    child = mp.Process(target=_console_process, args=(url.replace("http", "ws"), tokens, ready, stop, out))
    child.start()
    try:
        for _ in tokens:
            ready.get(timeout=60)
        results = asyncio.run(_run(url, args, out, stop))
        received = out.get(timeout=60)
    finally:
        stop.set()
        child.join(timeout=10)
        service.terminate()
        service.wait(timeout=15)
    report = {
        "consoles": args.consoles,
        "steady": {"rate": args.rate, **_latencies(results["steady"]["sent"], received, args.consoles)},
        "ramp": [
            {"rate": r["rate"], **_latencies(r["sent"], received, args.consoles)} for r in results["ramp"]
        ],
    }
    _print(report)
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "calls.json").write_text(json.dumps(report, indent=2))


def _print(report: dict[str, Any]) -> None:
    print(f"{report['consoles']} consoles, 113 calls (every console addressed)")
    heads = ("rate/s", "calls", "to all", "all p50", "all p99", "1st p50", "1st p99")
    print(" ".join(f"{h:>8}" for h in heads))
    for row in [report["steady"], *report["ramp"]]:
        a, f = row["all_consoles_ms"], row["first_console_ms"]
        print(
            f"{row['rate']:>7.0f} {row['calls']:>6} {row['delivered_to_all']:>7} {a['p50']:>8.1f} "
            f"{a['p99']:>8.1f} {f['p50']:>8.1f} {f['p99']:>8.1f}"
        )
    print("(milliseconds from the webhook request being sent)")


if __name__ == "__main__":
    main()
