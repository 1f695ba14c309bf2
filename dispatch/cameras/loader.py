"""Importing camera files from the command line, with progress on long work."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson

from dispatch.cameras.importer import ImportFormatError, ImportStream, TypeDefaults, stream_import
from dispatch.cameras.model import CameraIn
from dispatch.cameras.registry import Progress, write_chunks
from dispatch.settings import Settings
from dispatch.storage.db import create_pool
from geo.crs import Projector


class _Rejected(Exception):
    """A record was rejected and the import is all or nothing."""


def _content_type(path: Path) -> str:
    return "text/csv" if path.suffix.lower() == ".csv" else "application/geo+json"


def import_file(settings: Settings, path: Path, all_or_nothing: bool) -> int:
    """Imports a file; returns the exit status (1 when rows were rejected)."""
    print(f"reading {path.name}", file=sys.stderr)  # a million cameras take a while to read
    try:
        stream = stream_import(path.read_bytes(), _content_type(path), TypeDefaults())
        created, updated = _store_or_reject(settings, stream, all_or_nothing)
    except ImportFormatError as exc:
        print(f"cannot import {path.name}: {exc}", file=sys.stderr)
        return 2
    rejected = len(stream.rejected)
    print(f"read {stream.accepted} cameras, {rejected} rejected", file=sys.stderr)
    for item in stream.rejected:
        print(f"rejected #{item.index} {item.camera_id or ''}: {item.reason}", file=sys.stderr)
    if rejected and all_or_nothing:
        print(f"{rejected} rejected: nothing imported (--all-or-nothing)", file=sys.stderr)
        return 1
    print(f"created {created}, updated {updated}, rejected {rejected}", file=sys.stderr)
    return 1 if rejected else 0


def _store_or_reject(settings: Settings, stream: ImportStream, all_or_nothing: bool) -> tuple[int, int]:
    """Stores the stream's records; all or nothing, stops storing at the first rejection and reads on."""
    try:
        return asyncio.run(_store(settings, _records(stream, all_or_nothing), stream.expected))
    except _Rejected:
        for _ in stream:  # only to gather every rejection, to report them all
            pass
        return 0, 0


def _records(stream: ImportStream, all_or_nothing: bool) -> Iterator[list[CameraIn]]:
    for chunk in stream:
        if all_or_nothing and stream.rejected:
            raise _Rejected  # rolls the transaction back
        yield [camera for _, camera in chunk]
    if all_or_nothing and stream.rejected:
        raise _Rejected


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
        stream = stream_import(data, "application/geo+json", TypeDefaults())
        created, updated = asyncio.run(_store(settings, _records(stream, False), stream.expected))
        print(f"demo city: created {created}, updated {updated}", file=sys.stderr)


async def _store(settings: Settings, chunks: Iterator[list[CameraIn]], expected: int) -> tuple[int, int]:
    """Writes the chunks (a file's: no id twice) as they are read, with progress."""
    pool = await create_pool(settings.dsn, 1, 2)
    try:
        with _progress(expected) as tick:
            return await write_chunks(pool, Projector(settings.metric_crs), chunks, expected, True, tick)
    finally:
        await pool.close()


class _progress:
    """A tqdm bar on a terminal, plain progress lines otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total  # as estimated from the file: the bar is set right at the end
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
            self.bar.total = self.done
            self.bar.close()
