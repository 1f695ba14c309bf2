"""A camera's view (or PTZ reach) sector in the metric grid: columns for the index, polygons for PostGIS."""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import IntEnum

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Polygon

from geo.camera import Camera, Kind
from geo.crs import FloatArray, Projector

TAU = 2.0 * math.pi
# Arcs become chords no more than 1 mm inside the true arc, and no longer than 1 degree:
# PostGIS on these polygons then agrees with the analytic tests to the millimetre.
ARC_TOLERANCE_M = 0.001
_MAX_STEP_RAD = math.radians(1.0)
_MAX_SEGMENTS = 4096


class Col(IntEnum):
    """Columns of the per-camera view table, all in the metric grid."""

    X = 0
    Y = 1
    START = 2  # grid bearing (radians, clockwise from grid north) where the wedge starts
    WIDTH = 3  # angular width in radians; TAU for all-round cameras
    RANGE = 4
    SIN_S = 5
    COS_S = 6
    SIN_E = 7
    COS_E = 8
    CONV = 9  # meridian convergence at the camera, degrees (true bearing = grid bearing + CONV)


N_COLS = len(Col)


def arc_segments(radius_m: float, sweep_rad: float) -> int:
    """How many chords an arc needs to stay within ARC_TOLERANCE_M and 1 degree per chord."""
    step = _MAX_STEP_RAD
    if radius_m > ARC_TOLERANCE_M:
        step = min(step, 2.0 * math.acos(1.0 - ARC_TOLERANCE_M / radius_m))
    return max(1, min(_MAX_SEGMENTS, math.ceil(sweep_rad / step)))


def arc_xy(
    cx: float, cy: float, radius_m: float, start_rad: float, sweep_rad: float
) -> tuple[FloatArray, FloatArray]:
    """Points along an arc, both ends included; angles are grid bearings, clockwise from north."""
    theta = start_rad + np.linspace(0.0, sweep_rad, arc_segments(radius_m, sweep_rad) + 1)
    return cx + radius_m * np.sin(theta), cy + radius_m * np.cos(theta)


def _reach(raw: npt.NDArray[np.float64]) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Camera.reach_start_deg, reach_deg and all_round for rows of _fields (true degrees)."""
    # The same rules as the Camera properties, vectorised: reading three properties per camera would
    # double the time to load a million of them.
    heading, fov, low, high = raw[:, 2], raw[:, 3], raw[:, 5], raw[:, 6]
    ptz = raw[:, 7] > 0.0
    limited = ptz & ~np.isnan(low) & ~np.isnan(high)
    span = (high - low) % 360.0
    span = np.where((span == 0.0) & (high != low), 360.0, span)  # 0..360 is a full turn
    width = np.where(limited, np.minimum(360.0, span + fov), fov)
    start = (np.where(ptz & ~np.isnan(low), low, heading) - fov / 2.0) % 360.0
    round_ = (raw[:, 8] > 0.0) | (ptz & ~limited) | (width >= 360.0)
    return start, width, round_


def _fields(c: Camera) -> tuple[object, ...]:
    # None pan limits become NaN in the float array.
    return (
        c.lon,
        c.lat,
        c.heading_deg,
        c.fov_deg,
        c.range_m,
        c.pan_min_deg,
        c.pan_max_deg,
        c.kind is Kind.PTZ,
        c.kind is Kind.DOME,
    )


def view_columns(cameras: Sequence[Camera], projector: Projector) -> npt.NDArray[np.float64]:
    """The (n, N_COLS) view table for cameras: grid position, wedge, range, convergence."""
    return view_table(
        np.array([_fields(c) for c in cameras], dtype=np.float64).reshape(len(cameras), 9), projector
    )


def view_table(fields: npt.NDArray[np.float64], projector: Projector) -> npt.NDArray[np.float64]:
    """The view table of cameras given as an (n, 9) array of their fields (geo.bulk.FIELDS)."""
    lons, lats = fields[:, 0], fields[:, 1]
    table = np.empty((len(fields), N_COLS), dtype=np.float64)
    xs, ys = projector.to_metric_many(lons, lats)
    table[:, Col.X], table[:, Col.Y] = xs, ys
    table[:, Col.CONV] = projector.convergence_many(lons, lats, (xs, ys))
    start, width, round_ = _reach(fields)
    # Headings are true bearings; the grid wedge starts convergence degrees earlier (grid = true - conv).
    table[:, Col.START] = np.where(round_, 0.0, np.radians(start - table[:, Col.CONV]) % TAU)
    table[:, Col.WIDTH] = np.where(round_, TAU, np.radians(width))
    table[:, Col.RANGE] = fields[:, 4]
    end = table[:, Col.START] + table[:, Col.WIDTH]
    table[:, Col.SIN_S] = np.sin(table[:, Col.START])
    table[:, Col.COS_S] = np.cos(table[:, Col.START])
    table[:, Col.SIN_E] = np.sin(end)
    table[:, Col.COS_E] = np.cos(end)
    return table


# Grid bearing and unit vector of north, east, south and west.
_COMPASS = ((0.0, 0.0, 1.0), (0.5 * math.pi, 1.0, 0.0), (math.pi, 0.0, -1.0), (1.5 * math.pi, -1.0, 0.0))


def _within(bearing: float, start: FloatArray, width: FloatArray) -> npt.NDArray[np.bool_]:
    return np.asarray((bearing - start) % TAU <= width)


def sector_boxes(table: npt.NDArray[np.float64]) -> tuple[FloatArray, FloatArray]:
    """Tight bounding boxes of the sectors: mins (n, 2) and maxs (n, 2)."""
    x, y, r = table[:, Col.X], table[:, Col.Y], table[:, Col.RANGE]
    start, width = table[:, Col.START], table[:, Col.WIDTH]
    # The box holds the apex, both arc ends, and each compass extreme the wedge sweeps over.
    xs = [x, x + r * table[:, Col.SIN_S], x + r * table[:, Col.SIN_E]]
    ys = [y, y + r * table[:, Col.COS_S], y + r * table[:, Col.COS_E]]
    for bearing, dx, dy in _COMPASS:
        inside = _within(bearing, start, width)
        xs.append(np.where(inside, x + dx * r, x))
        ys.append(np.where(inside, y + dy * r, y))
    ax, ay = np.stack(xs), np.stack(ys)
    return np.column_stack([ax.min(0), ay.min(0)]), np.column_stack([ax.max(0), ay.max(0)])


def sector_ring(row: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The closed outline of one view-table row's sector, counter-clockwise, as (m, 2) grid coordinates."""
    x, y, r = float(row[Col.X]), float(row[Col.Y]), float(row[Col.RANGE])
    xs, ys = arc_xy(x, y, r, float(row[Col.START]), float(row[Col.WIDTH]))
    if row[Col.WIDTH] < TAU:
        xs, ys = np.concatenate([[x], xs, [x]]), np.concatenate([[y], ys, [y]])
    # Bearings turn clockwise: reversed, the ring runs counter-clockwise as GeoJSON asks.
    return np.column_stack([xs[::-1], ys[::-1]])


def sector_polygon(c: Camera, p: Projector) -> Polygon:
    """The camera's view (PTZ: reach) sector in the metric CRS; a disk for all-round cameras."""
    return Polygon(sector_ring(view_columns([c], p)[0]))


def sector_polygon_wgs84(c: Camera, p: Projector) -> Polygon:
    """The camera's view (PTZ: reach) sector in WGS 84 lon/lat, counter-clockwise."""
    ring = sector_ring(view_columns([c], p)[0])
    lons, lats = p.to_wgs84_many(ring[:, 0], ring[:, 1])
    return Polygon(np.column_stack([lons, lats]))


def sector_polygons(table: npt.NDArray[np.float64]) -> npt.NDArray[np.object_]:
    """Metric sector polygons for view-table rows, for exact tests against non-circular regions."""
    polygons = np.empty(len(table), dtype=np.object_)
    polygons[:] = [shapely.polygons(sector_ring(row)) for row in table]
    return polygons
