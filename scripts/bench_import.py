"""Benchmark of camera import: stage timings for a 37k and a 1M demo city.

Writes: the file streamed into an empty table, parsed as written (import; import.cpu is the client's CPU over
all its threads, import.copy and import.index its waits on the database); parsed records into an empty
table (load), the same again (reload), every camera changed (replace); then `callsight import-cameras` end to
end into an empty table (cli).
Run: .venv/bin/python scripts/bench_import.py [--quick] [--import-only] [--inline-sectors] [--dsn DSN]
Each size runs in its own process (so that its peak memory is its own) against a scratch database it creates
and drops. Prints a table and writes bench-results/import.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import psycopg
from scratch_db import scratch_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dispatch import demo_city
from dispatch.cameras import registry
from dispatch.cameras.derive import copy_chunk, resolve
from dispatch.cameras.importer import TypeDefaults, parse_import, stream_import
from dispatch.settings import Settings
from dispatch.storage import cameras as camera_store
from dispatch.storage.db import create_pool
from geo.crs import Projector
from geo.gcpause import paused_gc

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench-results" / "import.json"
SIZES = {"37k": 37_000, "1M": 1_000_000}
WRITES = ("load", "reload", "replace")
STAGES = (
    "parse",
    "resolve",
    "derive",
    *(f"{write}{part}" for write in WRITES for part in ("", ".copy", ".merge", ".index")),
    "import",
    "import.cpu",
    "import.copy",
    "import.index",
    "cli",
)
INLINE_SECTORS = "ALTER TABLE cameras SET (toast_tuple_target = 8160)"


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


class Timers:
    """Wall time spent inside the wrapped database calls, by name."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        """An async function timing `call` under `name`."""

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await call(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - started

        return timed


@contextlib.contextmanager
def _database_timers() -> Iterator[Timers]:
    """Times how long the client waits on COPY, on the merges and on the index rebuild."""
    timers = Timers()
    patched = {
        (asyncpg.Connection, "copy_to_table"): "copy",
        (asyncpg.Connection, "fetchval"): "merge",
        (camera_store.BulkWrite, "finish"): "index",
    }
    originals = {key: getattr(*key) for key in patched}
    for (owner, method), name in patched.items():
        setattr(owner, method, timers.wrap(name, originals[(owner, method)]))
    try:
        yield timers
    finally:
        for (owner, method), original in originals.items():
            setattr(owner, method, original)


async def _write(url: str, records: list[Any], projector: Projector) -> tuple[float, dict[str, float]]:
    """Times registry.write, with how long it waited on COPY, on the merges and on the index rebuild."""
    pool = await create_pool(url, 1, 2)
    try:
        with _database_timers() as timers:
            started = time.perf_counter()
            created, updated = await registry.write(pool, projector, records)
            elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    return elapsed, {**timers.spent, "created": created, "updated": updated}


async def _import(url: str, data: bytes, projector: Projector) -> dict[str, float]:
    """Seconds to stream a file into the database, the client's CPU seconds and its waits on the database."""
    pool = await create_pool(url, 1, 2)
    try:
        with _database_timers() as timers:
            started, cpu = time.perf_counter(), time.process_time()
            stream = stream_import(data, "application/geo+json", TypeDefaults())
            chunks = ([camera for _, camera in chunk] for chunk in stream)
            await registry.write_chunks(pool, projector, chunks, stream.expected, True)
            row = {"import": time.perf_counter() - started, "import.cpu": time.process_time() - cpu}
        return {**row, **{f"import.{part}": spent for part, spent in timers.spent.items() if part != "merge"}}
    finally:
        await pool.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("TRUNCATE cameras")


def _derive_alone(records: list[Any], projector: Projector) -> tuple[float, float]:
    """CPU of resolving (for the record: write no longer does it) and of deriving, chunk by chunk."""
    started = time.perf_counter()
    with paused_gc():
        [resolve(record) for record in records]
    resolved = time.perf_counter() - started
    started = time.perf_counter()
    with paused_gc():
        for start in range(0, len(records), registry.CHUNK):
            copy_chunk(records[start : start + registry.CHUNK], projector)
    return resolved, time.perf_counter() - started


# `callsight import-cameras FILE`, reporting its own peak RSS at exit: the rusage of a child counts the
# memory of the forked parent too.
CLI = """
import atexit, sys
from pathlib import Path
from dispatch.cli import main
atexit.register(lambda: print("VmHWM", peak_rss_mb(), file=sys.stderr))
sys.argv = ["callsight", "import-cameras", sys.argv[1]]
main()
"""


def _cli(url: str, data: bytes) -> tuple[float, float]:
    """`callsight import-cameras FILE` into an empty table: wall seconds and its peak RSS in MB."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE cameras")
    with tempfile.NamedTemporaryFile(suffix=".geojson") as file:
        file.write(data)
        file.flush()
        source = inspect.getsource(peak_rss_mb) + CLI
        env = {**os.environ, "CALLSIGHT_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        started = time.perf_counter()
        command = [sys.executable, "-c", source, file.name]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"callsight import-cameras failed: {done.stderr[-2000:]}")
    peak = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("VmHWM ")]
    return elapsed, float(peak[-1])


def run_one(count: int, dsn: str, inline_sectors: bool, import_only: bool) -> dict[str, Any]:
    """Every stage for one city size; the peak RSS is this process' (parse, then the writes)."""
    data = orjson.dumps(demo_city.generate(cameras=count, seed=7))
    gc.collect()
    projector = Projector(Settings().metric_crs)
    row: dict[str, Any] = {"cameras": count}
    with scratch_database("callsight_importbench", dsn) as url:
        if inline_sectors:  # the migration proposed in the report, to measure it before it is written
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(INLINE_SECTORS)
        row.update(asyncio.run(_import(url, data, projector)))
        row["import_peak_rss_mb"] = peak_rss_mb()
        if not import_only:
            row.update(_parse_and_writes(url, data, projector))
        row["cli"], row["cli_peak_rss_mb"] = _cli(url, data)
    return row


def _parse_and_writes(url: str, data: bytes, projector: Projector) -> dict[str, Any]:
    """Parsing and deriving alone, then parsed records loaded, reloaded and replaced."""
    started = time.perf_counter()
    batch = parse_import(data, "application/geo+json", TypeDefaults())
    row: dict[str, Any] = {"parse": time.perf_counter() - started}
    records = [camera for _, camera in batch.cameras]
    batch.cameras.clear()
    row["resolve"], row["derive"] = _derive_alone(records, projector)
    changed = [r.model_copy(update={"heading_deg": (r.heading_deg + 1.0) % 360.0}) for r in records]
    for name, cameras in (("load", records), ("reload", records), ("replace", changed)):
        elapsed, parts = asyncio.run(_write(url, cameras, projector))
        row[name] = elapsed
        row.update({f"{name}.{part}": value for part, value in parts.items()})
    row["end_to_end"] = row["parse"] + row["load"]
    row["peak_rss_mb"] = peak_rss_mb()
    return row


def print_table(rows: dict[str, dict[str, Any]]) -> None:
    """Seconds per stage, one column per city size."""
    names = list(rows)
    print(f"{'stage (s)':<18}" + "".join(f"{n:>12}" for n in names))
    for stage in (*STAGES, "end_to_end", "import_peak_rss_mb", "peak_rss_mb", "cli_peak_rss_mb"):
        print(f"{stage:<18}" + "".join(f"{rows[n].get(stage, float('nan')):>12.2f}" for n in names))
    for n in (n for n in names if "load.created" in rows[n]):
        counts = ", ".join(f"{w} {rows[n][w + '.created']}+{rows[n][w + '.updated']}" for w in WRITES)
        print(f"{n} created+updated: {counts}")


def main() -> None:
    """Runs each size in a child process, prints the table and adds the run to the JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Only the 37k city.")
    parser.add_argument("--inline-sectors", action="store_true", help="With toast_tuple_target = 8160.")
    parser.add_argument(
        "--import-only", action="store_true", help="Only the streamed import and the command line import."
    )
    parser.add_argument("--dsn", default=os.environ.get("CALLSIGHT_DATABASE_URL") or Settings().dsn)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.dsn, args.inline_sectors, args.import_only)))
        return
    rows = {}
    for name, count in SIZES.items():
        if args.quick and count > 100_000:
            continue
        child = [sys.executable, __file__, "--one", str(count), "--dsn", args.dsn]
        child += ["--inline-sectors"] if args.inline_sectors else []
        child += ["--import-only"] if args.import_only else []
        rows[name] = json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
        print(f"{name} done", file=sys.stderr)
    print_table(rows)
    OUT.parent.mkdir(exist_ok=True)
    summary = json.loads(OUT.read_text()) if OUT.exists() else {}
    summary.update({"machine": os.uname().nodename, "cpus": os.cpu_count()})
    run = "-".join(
        name
        for name, on in (("inline-sectors", args.inline_sectors), ("import-only", args.import_only))
        if on
    )
    summary.setdefault("runs", {})[run or "default"] = rows
    OUT.write_text(json.dumps(summary, indent=2))
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
