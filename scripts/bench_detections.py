"""Benchmark of detections: sustained HTTP ingest in batches of 100; recent() and retention on a big table.

Run: .venv/bin/python scripts/bench_detections.py [--rows 10000000] [--url URL --sender NAME --secret SECRET]
Without --url the service runs in this process on a random port. Table figures use a throw-away database
beside --dsn (default: the project-local cluster). Prints a table and writes bench-results/detections.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import numpy as np
import orjson
from aiohttp import web
from scratch_db import scratch_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dispatch.app import create_app
from dispatch.auth.signing import signed_headers
from dispatch.detections.model import KINDS
from dispatch.http import detections as detection_routes
from dispatch.settings import Settings
from dispatch.storage import detections as store

OUT = Path(__file__).resolve().parents[1] / "bench-results" / "detections.json"
BATCH = 100
INGEST_CAMERAS = 20
LOAD_CHUNK = 1_000_000
# Rows for the table figures: `--cameras` analytics cameras, detections spread over `--span-hours`.
_LOAD = f"""
INSERT INTO detections (detection_id, camera_id, detected_at, kind, label, confidence, box, attributes)
SELECT 'load-' || g, 'LOAD-' || lpad((g % $3)::text, 6, '0'),
       now() - random() * $4 * interval '1 second',
       (ARRAY[{", ".join(f"'{k}'" for k in KINDS)}])[1 + g % {len(KINDS)}],
       'object', random(), ARRAY[0.1, 0.2, 0.3, 0.4], '{{"color": "white"}}'::jsonb
FROM generate_series($1::bigint, $2::bigint) AS g
"""
# Busy cameras (a crowd counter, a plate reader on a main road): many rows inside one look-back window.
_HOT = """
INSERT INTO detections (detection_id, camera_id, detected_at, kind, confidence)
SELECT 'hot-' || g, 'LOAD-' || lpad((g % $2)::text, 6, '0'), now() - random() * $3 * interval '1 second',
       'crowd', random()
FROM generate_series(1, $1::bigint) AS g
"""
HOT_CAMERAS = 2
# The plain form recent() avoids, for comparison: it reads and sorts every row of the window.
_PLAIN_RECENT = f"""
SELECT {store.COLUMNS} FROM (
    SELECT * FROM detections WHERE camera_id = ANY($1::text[]) AND detected_at >= $2
    ORDER BY detected_at DESC, detection_id LIMIT $3
) AS d ORDER BY d.detected_at DESC, d.detection_id
"""


def percentiles_ms(samples: Sequence[float]) -> dict[str, float]:
    """p50/p99/mean of durations in seconds, in milliseconds."""
    a = np.asarray(samples) * 1e3
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p99_ms": round(float(np.percentile(a, 99)), 2),
        "mean_ms": round(float(a.mean()), 2),
    }


@contextlib.asynccontextmanager
async def in_process_service(database_url: str, secret: str) -> AsyncIterator[str]:
    """The real application with the detection routes, on a random loopback port."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.model_validate(
            {
                "database_url": database_url,
                "data_dir": data_dir,
                "webhook_secrets": f"bench={secret}",
                "token_secret": secrets.token_hex(16),
                "caller_hash_secret": secrets.token_hex(16),
            }
        )
        app = create_app(settings)
        if not any(r.resource and r.resource.canonical == "/v1/detections" for r in app.router.routes()):
            app.router.add_routes(detection_routes.routes)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            yield f"http://127.0.0.1:{runner.addresses[0][1]}"
        finally:
            await runner.cleanup()


async def _send(
    session: aiohttp.ClientSession,
    url: str,
    sender: str,
    secret: str,
    method: str,
    path: str,
    body: dict[str, Any],
) -> tuple[int, Any]:
    raw = orjson.dumps(body)
    headers = signed_headers(sender, secret.encode(), raw)
    headers["Content-Type"] = "application/json"
    async with session.request(method, url + path, data=raw, headers=headers) as response:
        return response.status, await response.json()


async def bench_ingest(
    url: str,
    sender: str,
    secret: str,
    seconds: float,
    concurrency: int,
) -> dict[str, Any]:
    """Posts batches of 100 new detections from several senders for a while; rate and batch latency."""
    run = uuid.uuid4().hex[:6]
    cameras = [f"BENCH-{run}-{i:02d}" for i in range(INGEST_CAMERAS)]
    latencies: list[float] = []
    failures = 0
    async with aiohttp.ClientSession() as session:
        for i, camera_id in enumerate(cameras):
            status, answer = await _send(
                session,
                url,
                sender,
                secret,
                "PUT",
                f"/v1/cameras/{camera_id}",
                {"lat": 10.77 + i * 1e-3, "lon": 106.70, "heading_deg": 90.0},
            )
            if status not in (200, 201):
                raise SystemExit(f"cannot register bench camera {camera_id}: {status} {answer}")
        deadline = time.perf_counter() + seconds

        async def sender_loop(worker: int) -> None:
            nonlocal failures
            n = 0
            while time.perf_counter() < deadline:
                at = datetime.now(UTC).isoformat()
                items = [
                    {
                        "detection_id": f"{run}-{worker}-{n}-{k}",
                        "camera_id": cameras[k % INGEST_CAMERAS],
                        "detected_at": at,
                        "kind": KINDS[k % len(KINDS)],
                        "confidence": 0.8,
                        "box": [0.1, 0.2, 0.3, 0.4],
                        "label": "object",
                    }
                    for k in range(BATCH)
                ]
                n += 1
                start = time.perf_counter()
                status, answer = await _send(
                    session, url, sender, secret, "POST", "/v1/detections", {"detections": items}
                )
                latencies.append(time.perf_counter() - start)
                if status != 200 or answer.get("accepted") != BATCH:
                    failures += 1

        began = time.perf_counter()
        await asyncio.gather(*(sender_loop(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - began
    return {
        "batches": len(latencies),
        "failed_batches": failures,
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
        "detections_per_s": round(len(latencies) * BATCH / elapsed, 0),
        "batch_latency": percentiles_ms(latencies),
    }


async def load_rows(conn: asyncpg.Connection, rows: int, cameras: int, span_s: float) -> float:
    """Fills the table with `rows` synthetic detections; returns the seconds it took."""
    start = time.perf_counter()
    for first in range(1, rows + 1, LOAD_CHUNK):
        last = min(first + LOAD_CHUNK - 1, rows)
        await conn.execute(_LOAD, first, last, cameras, span_s, timeout=3600)
        print(f"  loaded {last:,} rows", file=sys.stderr)
    await conn.execute("VACUUM ANALYZE detections", timeout=3600)
    return time.perf_counter() - start


async def _plain(conn: asyncpg.Connection, ids: list[str], since: datetime, limit: int) -> list[Any]:
    return [store.row_to_json(row) for row in await conn.fetch(_PLAIN_RECENT, ids, since, limit)]


async def time_queries(
    conn: asyncpg.Connection,
    picks: list[list[str]],
    lookback_s: float,
    limit: int,
) -> dict[str, Any]:
    """recent() and the plain query, both answering JSON-ready dicts, over the same camera sets."""
    since = datetime.now(UTC) - timedelta(seconds=lookback_s)
    figures: dict[str, Any] = {}
    for name, query in (("recent", store.recent), ("plain_any", _plain)):
        for ids in picks[:20]:  # warm the cache and the prepared statements
            await query(conn, ids, since, limit)
        times, returned = [], []
        for ids in picks:
            start = time.perf_counter()
            got = await query(conn, ids, since, limit)
            times.append(time.perf_counter() - start)
            returned.append(len(got))
        figures[name] = {**percentiles_ms(times), "rows_returned_mean": round(float(np.mean(returned)), 1)}
    return figures


def camera_sets(cameras: int, runs: int, hot: bool) -> list[list[str]]:
    """Sets of 20 cameras, as an incident lists them; with `hot`, the busy cameras are among them."""
    rng = random.Random(3)
    first = HOT_CAMERAS if hot else 0
    fixed = [f"LOAD-{c:06d}" for c in range(first)]
    others = range(first, cameras)
    return [fixed + [f"LOAD-{c:06d}" for c in rng.sample(others, 20 - first)] for _ in range(runs)]


async def bench_table(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """recent() p50/p99 after loading the rows, then one retention pass over the oldest tenth."""
    span_s = args.span_hours * 3600.0
    conn = await asyncpg.connect(url)
    try:
        load_s = await load_rows(conn, args.rows, args.cameras, span_s)
        size = await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size('detections'))")
        window, limit = args.lookback_s, args.limit
        typical = await time_queries(conn, camera_sets(args.cameras, args.runs, False), window, limit)
        await conn.execute(_HOT, args.hot_rows, HOT_CAMERAS, window)
        await conn.execute("ANALYZE detections")
        hot = await time_queries(conn, camera_sets(args.cameras, args.runs, True), window, limit)
        cutoff = datetime.now(UTC) - timedelta(seconds=span_s * 0.9)
        start = time.perf_counter()
        deleted = await store.delete_older_than(conn, cutoff, batch=10_000, keep_referenced=True)
        delete_s = time.perf_counter() - start
    finally:
        await conn.close()
    retention = {
        "deleted": deleted,
        "seconds": round(delete_s, 2),
        "rows_per_s": round(deleted / delete_s, 0) if delete_s else None,
    }
    return {
        "rows": args.rows,
        "cameras": args.cameras,
        "span_hours": args.span_hours,
        "table_size": size,
        "load_s": round(load_s, 1),
        "lookback_s": args.lookback_s,
        "limit": args.limit,
        "runs": args.runs,
        "typical": typical,
        "with_hot_cameras": {"hot_rows": args.hot_rows, **hot},
        "retention": retention,
    }


def print_table(results: dict[str, Any]) -> None:
    ingest, table = results.get("ingest"), results.get("table")
    if ingest:
        lat = ingest["batch_latency"]
        print(
            f"ingest  {ingest['detections_per_s']:>10,.0f} detections/s  ({ingest['batches']} batches of"
            f" {BATCH}, {ingest['concurrency']} senders, {ingest['failed_batches']} failed)"
            f"  batch p50 {lat['p50_ms']} ms  p99 {lat['p99_ms']} ms"
        )
    if table:
        print(
            f"table   {table['rows']:,} rows on {table['cameras']} cameras over {table['span_hours']} h"
            f" ({table['table_size']}), loaded in {table['load_s']} s"
        )
        for case in ("typical", "with_hot_cameras"):
            for name in ("recent", "plain_any"):
                q = table[case][name]
                print(
                    f"{name:<10} {case:<17} 20 cameras, {table['lookback_s']:g} s back, limit"
                    f" {table['limit']}:  p50 {q['p50_ms']} ms  p99 {q['p99_ms']} ms"
                    f"  ({q['rows_returned_mean']} rows)"
                )
        r = table["retention"]
        print(f"retention  deleted {r['deleted']:,} rows in {r['seconds']} s ({r['rows_per_s']:,.0f} rows/s)")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "cpus": os.cpu_count()}
    with scratch_database("callsight_bench", args.dsn or Settings().dsn, args.keep_db) as url:
        if not args.skip_ingest:
            if args.url:
                results["ingest"] = await bench_ingest(
                    args.url, args.sender, args.secret, args.seconds, args.concurrency
                )
                results["ingest"]["service"] = args.url
            else:
                secret = secrets.token_hex(16)
                async with in_process_service(url, secret) as local:
                    results["ingest"] = await bench_ingest(
                        local, "bench", secret, args.seconds, args.concurrency
                    )
                results["ingest"]["service"] = "in-process"
        if not args.skip_table:
            results["table"] = await bench_table(url, args)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a running service; default: start one in this process")
    parser.add_argument("--sender", default="bench", help="signed sender name known to that service")
    parser.add_argument("--secret", default="", help="that sender's secret")
    parser.add_argument("--dsn", help="database whose cluster holds the throw-away bench database")
    parser.add_argument("--seconds", type=float, default=15.0, help="ingest duration")
    parser.add_argument("--concurrency", type=int, default=4, help="senders posting at once")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows loaded for the table figures")
    parser.add_argument("--cameras", type=int, default=1_000, help="cameras those rows are spread over")
    parser.add_argument("--span-hours", type=float, default=24.0, help="time those rows are spread over")
    parser.add_argument("--lookback-s", type=float, default=600.0, help="recent() window, seconds")
    parser.add_argument("--limit", type=int, default=200, help="recent() row limit")
    parser.add_argument("--runs", type=int, default=1_000, help="recent() calls timed")
    parser.add_argument("--hot-rows", type=int, default=20_000, help="rows of 2 busy cameras in the window")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-table", action="store_true")
    parser.add_argument("--keep-db", action="store_true", help="keep the throw-away database for inspection")
    args = parser.parse_args()
    if args.url and not args.secret:
        parser.error("--url needs --secret (and --sender if it is not 'bench')")
    results = asyncio.run(run(args))
    print_table(results)
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
