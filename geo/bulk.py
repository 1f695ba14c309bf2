"""Cameras in bulk, as arrays: the view table from plain columns and every sector's ring in one flat array."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from geo.crs import FloatArray, Projector
from geo.sector import N_COLS, TAU, Col, _reach, arc_segments

IntArray = npt.NDArray[np.int64]

# The columns of a fields array, as geo.sector reads them off a Camera: the kind flags are 1.0 or 0.0 and an
# absent pan limit is NaN.
FIELDS = ("lon", "lat", "heading_deg", "fov_deg", "range_m", "pan_min_deg", "pan_max_deg", "ptz", "dome")
# A registry holds few distinct (range, width) pairs; the chord count of each is worked out once.
_chords = functools.lru_cache(maxsize=1 << 16)(arc_segments)


def view_table(fields: FloatArray, projector: Projector) -> FloatArray:
    """geo.sector.view_columns of cameras given as an (n, 9) FIELDS array rather than as Camera objects."""
    # Building a Camera per row only to read its fields back took longer than all the arithmetic below.
    lons, lats = fields[:, 0], fields[:, 1]
    table = np.empty((len(fields), N_COLS), dtype=np.float64)
    xs, ys = projector.to_metric_many(lons, lats)
    table[:, Col.X], table[:, Col.Y] = xs, ys
    table[:, Col.CONV] = projector.convergence_many(lons, lats, (xs, ys))
    start, width, round_ = _reach(fields)
    table[:, Col.START] = np.where(round_, 0.0, np.radians(start - table[:, Col.CONV]) % TAU)
    table[:, Col.WIDTH] = np.where(round_, TAU, np.radians(width))
    table[:, Col.RANGE] = fields[:, 4]
    end = table[:, Col.START] + table[:, Col.WIDTH]
    table[:, Col.SIN_S] = np.sin(table[:, Col.START])
    table[:, Col.COS_S] = np.cos(table[:, Col.START])
    table[:, Col.SIN_E] = np.sin(end)
    table[:, Col.COS_E] = np.cos(end)
    return table


def sector_rings(table: FloatArray) -> tuple[FloatArray, IntArray]:
    """geo.sector.sector_ring of every row, one after the other as (points, 2), and each ring's size."""
    chords = np.array([_chords(r, w) for r, w in table[:, [Col.RANGE, Col.WIDTH]].tolist()], np.int64)
    wedge = (table[:, Col.WIDTH] < TAU).astype(np.int64)
    sizes = chords + 1 + 2 * wedge
    first = np.cumsum(sizes) - sizes
    # j: each point's index in np.linspace(0, width, chords + 1), counted from the end (the ring runs against
    # the bearings); the apex of a wedge gets -1 and chords + 1, outside the arc.
    j = np.repeat(chords + first + wedge, sizes) - np.arange(int(sizes.sum()))
    row_chords = np.repeat(chords, sizes)
    width = np.repeat(table[:, Col.WIDTH], sizes)
    # As linspace does: j steps of width / chords, and the last point exactly at the width.
    sweep = np.where(j == row_chords, width, j * (width / row_chords))
    theta = np.repeat(table[:, Col.START], sizes) + sweep
    radius = np.repeat(table[:, Col.RANGE], sizes)
    apex = (j < 0) | (j > row_chords)
    rings = np.empty((len(j), 2), dtype=np.float64)
    for axis, col, trig in ((0, Col.X, np.sin), (1, Col.Y, np.cos)):
        centre = np.repeat(table[:, col], sizes)
        rings[:, axis] = np.where(apex, centre, centre + radius * trig(theta))
    return rings, sizes
