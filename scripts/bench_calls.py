"""Call-to-console latency with 200 consoles in another process, at a fixed rate and at rising rates.

Starts `callsight serve` on a throw-away database loaded with the demo city, connects the consoles from a
child process, posts signed 113 calls, and reports when each console received each `incident.opened`.
CLOCK_MONOTONIC is system-wide on Linux, so times taken in the two processes compare directly.

The server (the service, then the bare baseline) runs on one core and the consoles' process on another
(`--no-pin` leaves placement to the scheduler). Unpinned, the scheduler often woke the consoles' process on
the core the server was busy sending from: the first console then read its frame 3.4 ms (p50) after the
server wrote it, against 0.5 ms pinned. The bench would measure where the scheduler put its client.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from chaos_suite.common import free_port, percentile
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-0123456789abcdef0123456789"
TOKEN_KEY = "bench-token-key-0123456789abcdef0123456789"
WARM_UP_S = 5.0
SAMPLED_CALLS = 200


async def _consoles(url: str, tokens: list[str], ready: Any, stop: Any, out: Any) -> None:
    received: dict[str, list[float]] = {}
    frames: dict[str, str] = {}  # the first frame of each of the first calls

    async def one(session: aiohttp.ClientSession, token: str) -> None:
        # aiohttp's compiled frame reader: 200 consoles in one process must not make the client the slowest
        # part (websockets' reader added 3-6 ms to every call's last console, against the same server).
        async with session.ws_connect(
            f"{url}/v1/consoles/ws?access_token={token}", compress=0, max_msg_size=2**22
        ) as ws:
            # Subscribing releases the connection at once; a silent one is held for a second (resume window).
            await ws.send_str('{"type": "subscribe"}')
            ready.put(1)
            async for message in ws:
                now = time.monotonic()
                text = message.data
                # A full JSON parse of every frame would make this process the bottleneck: find the id only.
                if '"type":"incident.opened"' in text[:80]:
                    start = text.index('"call_id":"') + 11
                    call_id = text[start : text.index('"', start)]
                    received.setdefault(call_id, []).append(now)
                    if len(frames) < SAMPLED_CALLS:
                        frames.setdefault(call_id, text)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        tasks = [asyncio.create_task(one(session, t)) for t in tokens]
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # The bare server sends one frame for every call: the median of the first calls', so that it does not
    # depend on which call came when (the fifth call's frame was 6.0 to 11.5 KB, run to run).
    by_size = sorted(frames.values(), key=len)
    median = by_size[len(by_size) // 2] if by_size else ""
    out.put((received, median, sum(map(len, by_size)) / max(1, len(by_size))))


def _console_process(url: str, tokens: list[str], ready: Any, stop: Any, out: Any, cores: Cores) -> None:
    _pin(0, cores)
    gc.disable()  # a measuring process must not pause (collections took up to 16 ms); it keeps no cycles
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


async def _post_at(url: str, rate: float, seconds: float, prefix: str, seed: str) -> dict[str, float]:
    from dispatch.auth.signing import signed_headers

    rng = random.Random(seed)  # the same locations in every run: how many cameras a call has sets its cost
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
        "all_consoles_ms": {"p50": percentile(last, 50), "p99": percentile(last, 99)},
        "first_console_ms": {"p50": percentile(first, 50), "p99": percentile(first, 99)},
    }


def _prepare_database(dsn_base: str) -> str:
    """The bench database: migrated, the demo city loaded once, and no calls."""
    import psycopg

    from dispatch.storage.migrate import upgrade

    admin = dsn_base.rsplit("/", 1)[0] + "/postgres"
    url = admin.rsplit("/", 1)[0] + "/callsight_bench"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'callsight_bench'").fetchone():
            conn.execute('CREATE DATABASE "callsight_bench"')
    upgrade(url)
    with psycopg.connect(url) as conn:
        # Every run starts with no calls: earlier runs' hundreds of thousands made checkpoints and autovacuum
        # weigh on the commits differently from run to run.
        conn.execute("TRUNCATE calls, call_locations, events, audit, detections")
        count = conn.execute("SELECT count(*) FROM cameras").fetchone()
    if not count or count[0] == 0:
        env = {**os.environ, "CALLSIGHT_DATABASE_URL": url}
        subprocess.run([str(Path(sys.executable).parent / "callsight"), "demo-city"], env=env, check=True)
    return url


Cores = set[int] | None  # None: where the scheduler puts it


def _placement(pin: bool) -> tuple[Cores, Cores]:
    """The server's core and the consoles' core, when pinning and there are two to choose from."""
    cores = sorted(os.sched_getaffinity(0))
    return ({cores[0]}, {cores[1]}) if pin and len(cores) >= 2 else (None, None)


def _pin(pid: int, cores: Cores) -> None:
    if cores:
        os.sched_setaffinity(pid, cores)


def _start_service(db: str, port: int, cores: Cores) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CALLSIGHT_DATABASE_URL": db,
        "CALLSIGHT_PORT": str(port),
        "CALLSIGHT_WEBHOOK_SECRETS": f"bench={SECRET}",
        "CALLSIGHT_TOKEN_SECRET": TOKEN_KEY,
        "CALLSIGHT_LOG_LEVEL": "WARNING",
        "CALLSIGHT_CONSOLE_BUFFER_BYTES": str(2**30),
    }
    process = subprocess.Popen([str(Path(sys.executable).parent / "callsight"), "serve"], env=env)
    _pin(process.pid, cores)
    _wait_for_port(port)
    time.sleep(1.0)
    return process


@dataclass(frozen=True)
class Target:
    """A server under measurement: where it listens, its process, and the prefix of its call ids."""

    url: str
    pid: int
    label: str


def _cpu_s(pid: int) -> float:
    """The CPU seconds (user and system, all threads) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _phases(target: Target, phases: list[tuple[float, float]]) -> list[dict[str, Any]]:
    """Posts calls at each (rate, seconds) in turn; the service's push histogram and the server's CPU time are
    read around each."""
    url, label = target.url, target.label
    # Not measured: the first calls after start pay once for what a running service has done already (each new
    # database session loads PostGIS; the first statements are planned), 10 ms and more for a few calls.
    await _post_at(url, phases[0][0], WARM_UP_S, f"{label}-warm", "warm-up")
    done = []
    for phase, (rate, seconds) in enumerate(phases):
        before, cpu = await _push_histograms(url), _cpu_s(target.pid)
        gc.disable()  # the poster's full collections took up to 130 ms, delaying requests already timed
        try:
            # Call ids unique within the run (the database starts each run empty), also when a rate repeats.
            sent = await _post_at(url, rate, seconds, f"{label}{phase}-{rate:g}", f"{rate:g}")
        finally:
            gc.enable()
        await asyncio.sleep(1.0)
        cpu_ms = (_cpu_s(target.pid) - cpu) * 1000 / len(sent)
        after = await _push_histograms(url)
        server = {name: _server_side(before.get(name, {}), buckets) for name, buckets in after.items()}
        done.append({"rate": rate, "sent": sent, "server": server, "cpu_ms_per_call": cpu_ms})
    return done


async def _push_histograms(url: str) -> dict[str, dict[float, float]]:
    """Cumulative bucket counts of the call push histogram ("push") and of each of its phases (the baseline
    server has the push histogram alone)."""
    async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as response:
        if response.status != 200:
            return {}
        text = await response.text()
    series: dict[str, dict[float, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in ("callsight_call_push_seconds_bucket", "callsight_call_phase_seconds_bucket"):
                buckets = series.setdefault(sample.labels.get("phase", "push"), {})
                buckets[float(sample.labels["le"])] = sample.value
    return series


def _server_side(before: dict[float, float], after: dict[float, float]) -> dict[str, float]:
    """p50/p99 in ms from a histogram's bucket counts over one phase, interpolated within buckets."""
    counts = sorted((bound, after[bound] - before.get(bound, 0.0)) for bound in after)
    if not counts or counts[-1][1] == 0:
        return {}
    total = counts[-1][1]

    def quantile(q: float) -> float:
        lower, below = 0.0, 0.0
        for bound, cumulative in counts:
            if cumulative >= q * total:
                if math.isinf(bound):
                    return lower * 1000
                share = (q * total - below) / max(cumulative - below, 1e-9)
                return (lower + (bound - lower) * share) * 1000
            lower, below = bound, cumulative
        return lower * 1000

    return {"p50": quantile(0.5), "p99": quantile(0.99)}


def _with_consoles(
    target: Target, tokens: list[str], phases: list[tuple[float, float]], cores: Cores
) -> tuple[list[dict[str, Any]], dict[str, list[float]], str, float]:
    """Connects the consoles in a child process, runs the phases, and gathers what each console received."""
    ready, out, stop = mp.Queue(), mp.Queue(), mp.Event()
    args = (target.url.replace("http", "ws"), tokens, ready, stop, out, cores)
    child = mp.Process(target=_console_process, args=args)
    child.start()
    try:
        for _ in tokens:
            ready.get(timeout=60)
        done = asyncio.run(_phases(target, phases))
        time.sleep(1.0)
        stop.set()
        received, sample, size = out.get(timeout=60)
    finally:
        stop.set()
        child.join(timeout=10)
    return done, received, sample, size


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.3)


def _baseline(
    tokens: list[str],
    sample: str,
    phases: list[tuple[float, float]],
    placement: tuple[Cores, Cores],
) -> list[dict[str, Any]]:
    """The same phases against the bare fan-out server, with the service's own frame: the machine's own
    ceiling, measured in the same run."""
    port = free_port()
    sample_file = ROOT / "bench-results" / "calls-sample-frame.json"
    sample_file.write_text(sample)
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "bench_fanout.py"), str(port), str(sample_file)]
    )
    _pin(server.pid, placement[0])
    try:
        _wait_for_port(port)
        bare = Target(f"http://127.0.0.1:{port}", server.pid, "b")
        done, received, _, _ = _with_consoles(bare, tokens, phases, placement[1])
    finally:
        server.terminate()
        server.wait(timeout=15)
    return [_row(d, received, len(tokens)) for d in done]


def _row(done: dict[str, Any], received: dict[str, list[float]], consoles: int) -> dict[str, Any]:
    """One phase's figures as both servers report them."""
    latencies = _latencies(done["sent"], received, consoles)
    server = done["server"].get("push", {})
    return {
        "rate": done["rate"],
        "cpu_ms_per_call": done["cpu_ms_per_call"],
        "server_ms": server,
        **latencies,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--consoles", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second for the latency figures")
    # A minute at 20 calls/s is 1,200 calls: the p99 is then the 12th slowest, not the 3rd of 300.
    parser.add_argument("--seconds", type=float, default=60.0, help="15 for a quick look")
    parser.add_argument("--ramp", type=float, nargs="*", default=[50, 100, 150, 200])
    parser.add_argument(
        "--ramp-seconds", type=float, default=60.0, help="each rate held this long; 10 for a quick look"
    )
    parser.add_argument("--no-pin", action="store_true", help="let the scheduler place server and consoles")
    args = parser.parse_args()
    placement = _placement(not args.no_pin)

    from dispatch.auth.tokens import issue
    from dispatch.settings import Settings

    db = _prepare_database(os.environ.get("CALLSIGHT_DATABASE_URL") or Settings().dsn)
    port = free_port()
    service = _start_service(db, port, placement[0])
    tokens = [issue(TOKEN_KEY.encode(), "police", 3600, None, f"bench-{n}") for n in range(args.consoles)]
    phases = [(args.rate, args.seconds), *((rate, args.ramp_seconds) for rate in args.ramp)]
    try:
        target = Target(f"http://127.0.0.1:{port}", service.pid, "s")
        done, received, sample, size = _with_consoles(target, tokens, phases, placement[1])
    finally:
        service.terminate()
        service.wait(timeout=15)
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    rows = [
        {
            **_row(d, received, len(tokens)),
            "server_phases_ms": {k: v for k, v in d["server"].items() if k != "push"},
        }
        for d in done
    ]
    report = {
        "consoles": args.consoles,
        "pinned": placement[0] is not None,
        "frame_bytes": round(size),
        "steady": rows[0],
        "ramp": rows[1:],
        "baseline": _baseline(tokens, sample, phases, placement),
    }
    report["held"] = {"service": _held(rows), "bare": _held(report["baseline"])}
    _print(report)
    (out_dir / "calls.json").write_text(json.dumps(report, indent=2))


def _print(report: dict[str, Any]) -> None:
    print(
        f"{report['consoles']} consoles, 113 calls (every console addressed), "
        f"frames of {report['frame_bytes']} bytes, "
        + ("server and consoles on cores of their own" if report["pinned"] else "placed by the scheduler")
    )
    heads = (
        "rate/s",
        "calls",
        "to all",
        "all p50",
        "all p99",
        "1st p50",
        "1st p99",
        "srv p50",
        "srv p99",
        "cpu/call",
    )
    print(" ".join(f"{h:>8}" for h in heads))
    for name, row in [
        ("", report["steady"]),
        *(("", r) for r in report["ramp"]),
        *(("bare", r) for r in report["baseline"]),
    ]:
        a, f, srv = row["all_consoles_ms"], row["first_console_ms"], row.get("server_ms") or {}
        print(
            f"{row['rate']:>7.0f} {row['calls']:>6} {row['delivered_to_all']:>7} {a['p50']:>8.1f} "
            f"{a['p99']:>8.1f} {f['p50']:>8.1f} {f['p99']:>8.1f} {srv.get('p50', math.nan):>8.2f} "
            f"{srv.get('p99', math.nan):>8.2f} {row['cpu_ms_per_call']:>8.2f} {name}"
        )
    steady, bare = report["steady"]["all_consoles_ms"], report["baseline"][0]["all_consoles_ms"]
    srv, bare_srv = report["steady"]["server_ms"], report["baseline"][0]["server_ms"]
    phases = report["steady"]["server_phases_ms"]
    print(
        "srv by phase at the first rate, p50 ms: "
        + ", ".join(f"{k} {v.get('p50', math.nan):.2f}" for k, v in phases.items())
    )
    print(
        f"(ms from the webhook request being sent; srv: request arrival to the last frame written; bare: a "
        f"fan-out server without storage, same consoles and frame; cpu/call: the server's CPU ms per call)\n"
        f"all-consoles ratio to bare: "
        f"p50 {steady['p50'] / bare['p50']:.2f}x, p99 {steady['p99'] / bare['p99']:.2f}x; "
        f"server-side ratio to bare: p50 {_ratio(srv, bare_srv, 'p50')}, p99 {_ratio(srv, bare_srv, 'p99')}\n"
        f"highest rate held (every console got every call, all-consoles p99 < 100 ms): "
        f"service {report['held']['service']:g}/s, bare {report['held']['bare']:g}/s"
    )


def _ratio(service: dict[str, float], bare: dict[str, float], key: str) -> str:
    if not service.get(key) or not bare.get(key):
        return "n/a"
    return f"{service[key] / bare[key]:.2f}x"


def _held(rows: list[dict[str, Any]]) -> float:
    """The highest rate at which every console received every call with p99 under 100 ms."""
    held = [
        r["rate"] for r in rows if r["delivered_to_all"] == r["calls"] and r["all_consoles_ms"]["p99"] < 100
    ]
    return max(held, default=0.0)


if __name__ == "__main__":
    main()
