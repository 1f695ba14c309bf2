"""Binary COPY data of cameras and what was derived for them, built column-wise for whole chunks."""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import orjson

from dispatch.cameras.model import CameraOut, Streams

# Binary COPY: per camera a head of texts, streams, tags and pan limits (null but for tags), a fixed-size
# tail (numbers, flags, both points, the sector's size and EWKB header), then the sector's coordinates.
_TEXTS = ("camera_id", "name", "kind", "quality", "status", "area", "owner")
_MIXED = ("stream_rtsp", "stream_path", "tags", "pan_min_deg", "pan_max_deg")
_FLOATS = ("lat", "lon", "height_m", "heading_deg", "fov_deg", "range_m")
_FLAGS = ("connected", "public")
COPY_COLUMNS = (*_TEXTS, *_MIXED, *_FLOATS, *_FLAGS, "geom", "point_m", "sector_m")
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, no flags, no header extension
_COPY_TRAILER = b"\xff\xff"
_COUNT = struct.pack(">h", len(COPY_COLUMNS))
_I4 = struct.Struct(">i").pack
_NULL = _I4(-1)
_NULLS = _NULL * 2  # streams and pan limits are most often both absent
_FLOAT = struct.Struct(">id").pack
NUMBERS = (*_FLOATS, *_FLAGS)  # the columns of encode's `numbers`
# EWKB is PostGIS' WKB with an SRID, here little-endian inside COPY's big-endian framing: a point, or a
# polygon of one ring whose coordinates follow.
_SRID_FLAG = 0x20000000
_EWKB = [("order", "u1"), ("kind", "<u4"), ("srid", "<u4")]
_POINT = np.dtype([*_EWKB, ("xy", "<f8", (2,))])
_RING = np.dtype([*_EWKB, ("rings", "<u4"), ("points", "<u4")])
_TAIL = np.dtype(
    [
        *((name, [("size", ">i4"), ("value", ">f8")]) for name in _FLOATS),
        *((name, [("size", ">i4"), ("value", "u1")]) for name in _FLAGS),
        *((name, [("size", ">i4"), ("value", _POINT)]) for name in ("geom", "point_m")),
        ("sector_m", [("size", ">i4"), ("value", _RING)]),
    ]
)
WGS84 = 4326


class CopyChunk(NamedTuple):
    """Binary COPY data of some cameras (COPY_COLUMNS), how many, and the last one's id."""

    data: bytes
    rows: int
    last_id: str


class Geometry(NamedTuple):
    """Derived for n cameras: both points as (n, 2) x/y, and their sector rings one after the other."""

    wgs84: npt.NDArray[np.float64]  # lon, lat
    metric: npt.NDArray[np.float64]
    srid: int  # of the metric point and sector
    rings: npt.NDArray[np.float64]  # (points, 2), closed rings of `sizes` points each
    sizes: npt.NDArray[np.int64]


def encode(cameras: Sequence[CameraOut], numbers: npt.NDArray[np.float64], geometry: Geometry) -> CopyChunk:
    """Cameras as binary COPY data, with their NUMBERS as an (n, 8) array and their derived geometry."""
    n = len(cameras)
    pieces: list[bytes | memoryview] = [b""] * (3 * n + 2)
    pieces[0], pieces[-1] = _COPY_HEADER, _COPY_TRAILER
    # One list per part, interleaved by slice assignment: the bytes of a row are never copied but by the join.
    pieces[1:-1:3] = map(_head, cameras)
    pieces[2:-1:3] = _split(_tail(numbers, geometry).tobytes(), _TAIL.itemsize)
    ends = np.cumsum(geometry.sizes) * geometry.rings.itemsize * 2
    coordinates = geometry.rings.data.cast("B")
    pieces[3:-1:3] = map(coordinates.__getitem__, map(slice, [0, *ends[:-1].tolist()], ends.tolist()))
    return CopyChunk(b"".join(pieces), n, cameras[-1].camera_id if cameras else "")


def _head(camera: CameraOut) -> bytes:
    """A camera's field count and variable-size fields, read off its fields' dictionary: faster."""
    d = vars(camera)
    tags = orjson.dumps(d["tags"])
    low, high = d["pan_min_deg"], d["pan_max_deg"]
    return b"".join((
        _COUNT, _text(d["camera_id"]), _text(d["name"]),
        _repeated(d["kind"], d["quality"], d["status"], d["area"], d["owner"]), _streams(d["streams"]),
        _I4(len(tags) + 1), b"\x01", tags,  # jsonb: format version 1, then the text
        _NULLS if low is None and high is None else _float(low) + _float(high),
    ))  # fmt: skip


def _streams(streams: Streams) -> bytes:
    return (
        _NULLS if streams.rtsp is None and streams.path is None else _text(streams.rtsp) + _text(streams.path)
    )


def _tail(numbers: npt.NDArray[np.float64], geometry: Geometry) -> npt.NDArray[np.void]:
    """The fixed-size part of each camera's row, built for all of them at once."""
    tail = np.empty(len(numbers), _TAIL)
    for at, name in enumerate(NUMBERS):
        tail[name]["size"] = tail.dtype[name]["value"].itemsize
        tail[name]["value"] = numbers[:, at]
    for name, xy, srid in (("geom", geometry.wgs84, WGS84), ("point_m", geometry.metric, geometry.srid)):
        tail[name]["size"] = _POINT.itemsize
        _ewkb(tail[name]["value"], 1, srid)["xy"] = xy
    sector = tail["sector_m"]
    sector["size"] = _RING.itemsize + geometry.sizes * geometry.rings.itemsize * 2
    ring = _ewkb(sector["value"], 3, geometry.srid)
    ring["rings"], ring["points"] = 1, geometry.sizes
    return tail


def _ewkb(header: npt.NDArray[np.void], kind: int, srid: int) -> npt.NDArray[np.void]:
    header["order"], header["kind"], header["srid"] = 1, kind | _SRID_FLAG, srid
    return header


def _split(blob: bytes, size: int) -> list[bytes]:
    """Fixed-size records out of one buffer."""
    return [blob[at : at + size] for at in range(0, len(blob), size)]


def _text(value: str | None) -> bytes:
    if value is None:
        return _NULL
    data = value.encode()
    return _I4(len(data)) + data


@functools.lru_cache(maxsize=1 << 14)
def _repeated(*values: str) -> bytes:
    """Kind, quality, status, area and owner: a few thousand combinations over a million cameras."""
    return b"".join(map(_text, values))


def _float(value: float | None) -> bytes:
    return _NULL if value is None else _FLOAT(8, value)
