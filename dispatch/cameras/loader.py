"""Importing camera files from the command line, with progress on long work."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import orjson

from dispatch.cameras.importer import ImportBatch, ImportFormatError, TypeDefaults, parse_import
from dispatch.cameras.model import CameraIn
from dispatch.cameras.registry import Progress, write
from dispatch.settings import Settings
from dispatch.storage.db import create_pool
from geo.crs import Projector


def _content_type(path: Path) -> str:
    return "text/csv" if path.suffix.lower() == ".csv" else "application/geo+json"


def import_file(settings: Settings, path: Path, all_or_nothing: bool) -> int:
    """Imports a file; returns the exit status (1 when rows were rejected)."""
    print(f"reading {path.name}", file=sys.stderr)  # a million cameras take a while to read
    try:
        batch = parse_import(path.read_bytes(), _content_type(path), TypeDefaults())
    except ImportFormatError as exc:
        print(f"cannot import {path.name}: {exc}", file=sys.stderr)
        return 2
    print(f"read {len(batch.cameras)} cameras, {len(batch.rejected)} rejected", file=sys.stderr)
    for item in batch.rejected:
        print(f"rejected #{item.index} {item.camera_id or ''}: {item.reason}", file=sys.stderr)
    if batch.rejected and all_or_nothing:
        print(f"{len(batch.rejected)} rejected: nothing imported (--all-or-nothing)", file=sys.stderr)
        return 1
    rejected = len(batch.rejected)
    created, updated = asyncio.run(_store(settings, take_records(batch)))
    print(f"created {created}, updated {updated}, rejected {rejected}", file=sys.stderr)
    return 1 if rejected else 0


def load_demo_city(settings: Settings, count: int, seed: int, out: Path | None, load: bool) -> None:
    """Generates the demo city, writes it to `out` and/or imports it."""
    from dispatch import demo_city

    collection = demo_city.generate(cameras=count, seed=seed)
    data = orjson.dumps(collection)  # a million features: seconds with orjson, a minute with json
    written = len(collection["features"])
    del collection
    if out is not None:
        out.write_bytes(data)
        print(f"wrote {written} cameras to {out}", file=sys.stderr)
    if load:
        batch = parse_import(data, "application/geo+json", TypeDefaults())
        created, updated = asyncio.run(_store(settings, take_records(batch)))
        print(f"demo city: created {created}, updated {updated}", file=sys.stderr)


def take_records(batch: ImportBatch) -> list[CameraIn]:
    """The batch's valid records, already in WGS 84; empties the batch so that only one list remains."""
    records = [camera for _, camera in batch.cameras]
    batch.cameras.clear()
    return records


async def _store(settings: Settings, records: list[CameraIn]) -> tuple[int, int]:
    pool = await create_pool(settings.dsn, 1, 2)
    try:
        with _progress(len(records)) as tick:
            return await write(pool, Projector(settings.metric_crs), records, tick)
    finally:
        await pool.close()


class _progress:
    """A tqdm bar on a terminal, plain progress lines otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="camera", file=sys.stderr)

    def __enter__(self) -> Progress:
        return self.tick

    def tick(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        else:
            print(f"stored {self.done}/{self.total} cameras", file=sys.stderr)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
