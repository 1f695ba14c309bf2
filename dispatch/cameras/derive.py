"""From a registry record to what is stored: WGS 84 position, metric point and view-sector polygon."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import cast

import numpy as np
import numpy.typing as npt

from dispatch.cameras.model import CameraIn, CameraOut, to_geo
from dispatch.storage import cameras as camera_store
from geo.crs import Projector, to_wgs84_from
from geo.sector import TAU, Col, arc_segments, view_columns

WGS84 = 4326
# EWKB (PostGIS' WKB with an SRID), little-endian: a point, or a polygon of one ring then its x/y pairs.
_SRID_FLAG = 0x20000000
_POINT = np.dtype([("order", "u1"), ("kind", "<u4"), ("srid", "<u4"), ("xy", "<f8", (2,))])
_HEADER = struct.Struct("<BIIII")  # byte order, type, SRID, rings, points
_HEADER_SIZE = _HEADER.size
Table = npt.NDArray[np.float64]


def resolve(camera: CameraIn) -> CameraOut:
    """The record with its position in WGS 84 (x/y in another CRS transformed with pyproj)."""
    if camera.lat is not None and camera.lon is not None:
        # Reads CameraOut's fields off the record: a third of the time of dumping it to a dict first.
        return CameraOut.model_validate(camera, from_attributes=True)
    assert camera.x is not None and camera.y is not None and camera.crs is not None
    values = camera.model_dump(exclude={"x", "y", "crs"})
    values["lon"], values["lat"] = to_wgs84_from(camera.crs, camera.x, camera.y)
    return CameraOut.model_validate(values)


def copy_chunk(cameras: Sequence[CameraIn | CameraOut], projector: Projector) -> camera_store.CopyChunk:
    """Binary COPY data of cameras with their points and sector derived once, on write."""
    records = list(map(_placed, cameras))
    geos = [to_geo(camera) for camera in records]
    table = view_columns(geos, projector)
    wgs84 = point_ewkb(np.array([(g.lon, g.lat) for g in geos], np.float64).reshape(-1, 2), WGS84)
    metric = point_ewkb(table[:, [Col.X, Col.Y]], projector.srid)
    return camera_store.copy_chunk(records, wgs84, metric, sector_ewkb(table, projector.srid))


def _placed(camera: CameraIn | CameraOut) -> CameraOut:
    """The record as stored; a CameraIn already in WGS 84 has every field a CameraOut has."""
    if isinstance(camera, CameraOut):
        return camera
    if camera.lat is None or camera.lon is None:
        return resolve(camera)
    # Validating it a second time, as a CameraOut, would take longer than deriving its sector.
    return cast(CameraOut, camera)


def sector_ewkb(table: Table, srid: int) -> list[bytes]:
    """EWKB of the rows' sector polygons: the rings of geo.sector.sector_polygons, without GEOS."""
    counts = np.array([arc_segments(r, w) for r, w in table[:, [Col.RANGE, Col.WIDTH]].tolist()], np.int64)
    wedge = table[:, Col.WIDTH] < TAU
    # Rows with the same number of chords and shape make a dense block: one set of array operations each.
    key = counts * 2 + wedge
    order = np.argsort(key, kind="stable")
    out: list[bytes] = [b""] * len(table)
    for rows in np.split(order, np.flatnonzero(np.diff(key[order])) + 1):
        if len(rows):
            blobs = _block(table[rows], int(counts[rows[0]]), bool(wedge[rows[0]]), srid)
            for row, blob in zip(rows.tolist(), blobs, strict=True):
                out[row] = blob
    return out


def _block(rows: Table, chords: int, wedge: bool, srid: int) -> list[bytes]:
    """EWKB of sectors that share their number of chords and shape, as fixed-size records."""
    points = chords + 1 + 2 * wedge
    x, y, radius = rows[:, Col.X, None], rows[:, Col.Y, None], rows[:, Col.RANGE, None]
    start, width = rows[:, Col.START], rows[:, Col.WIDTH]
    # As geo.sector.arc_xy, start + linspace(0, width, chords + 1) whose last step is exactly the width, but
    # from the end back to the start: geo.sector.sector_ring runs counter-clockwise, against the bearings.
    theta = start[:, None] + np.arange(chords, -1, -1) * (width / chords)[:, None]
    theta[:, 0] = start + width
    xy = np.empty((len(rows), points, 2))
    arc = xy[:, 1:-1] if wedge else xy
    arc[..., 0] = x + radius * np.sin(theta)
    arc[..., 1] = y + radius * np.cos(theta)
    if wedge:  # the apex closes the wedge at both ends of the ring
        xy[:, 0] = xy[:, -1] = rows[:, [Col.X, Col.Y]]
    records = np.empty((len(rows), _HEADER_SIZE + 16 * points), np.uint8)
    header = _HEADER.pack(1, 3 | _SRID_FLAG, srid, 1, points)
    records[:, :_HEADER_SIZE] = np.frombuffer(header, np.uint8)
    records[:, _HEADER_SIZE:] = xy.view(np.uint8).reshape(len(rows), -1)
    return _split(records.tobytes(), records.shape[1])


def point_ewkb(xy: Table, srid: int) -> list[bytes]:
    """EWKB of points given as (n, 2) x/y (lon/lat in WGS 84)."""
    records = np.empty(len(xy), _POINT)
    records["order"], records["kind"], records["srid"], records["xy"] = 1, 1 | _SRID_FLAG, srid, xy
    return _split(records.tobytes(), _POINT.itemsize)


def _split(blob: bytes, size: int) -> list[bytes]:
    """Fixed-size records out of one buffer."""
    return [blob[at : at + size] for at in range(0, len(blob), size)]
