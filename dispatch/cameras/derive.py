"""From a registry record to what is stored: WGS 84 position, metric point and view-sector polygon."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from dispatch.cameras.model import CameraIn, CameraOut, to_geo
from dispatch.storage.cameras import staging_rows
from geo.crs import Projector, to_wgs84_from
from geo.sector import TAU, Col, arc_segments, view_columns

# EWKB (PostGIS' WKB with an SRID): little-endian polygon of one ring, then the ring's x/y pairs.
_EWKB_POLYGON = 3 | 0x20000000
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


def staging_records(cameras: Sequence[CameraIn | CameraOut], projector: Projector) -> list[tuple[Any, ...]]:
    """COPY rows with the metric point and sector derived once, on write (vectorised over the batch)."""
    records = [camera if isinstance(camera, CameraOut) else resolve(camera) for camera in cameras]
    table = view_columns([to_geo(camera) for camera in records], projector)
    sectors = sector_ewkb(table, projector.srid)
    return staging_rows(records, table[:, Col.X].tolist(), table[:, Col.Y].tolist(), sectors)


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
    records[:, :_HEADER_SIZE] = np.frombuffer(_HEADER.pack(1, _EWKB_POLYGON, srid, 1, points), np.uint8)
    records[:, _HEADER_SIZE:] = xy.view(np.uint8).reshape(len(rows), -1)
    blob, size = records.tobytes(), records.shape[1]
    return [blob[at : at + size] for at in range(0, len(blob), size)]
