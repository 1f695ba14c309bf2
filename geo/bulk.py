"""Cameras in bulk, as arrays: the fields geo.sector.view_table reads, and all sector rings in one array."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from geo.crs import FloatArray
from geo.sector import TAU, Col, arc_segments

IntArray = npt.NDArray[np.int64]

# The columns of a fields array, as geo.sector reads them off a Camera: the kind flags are 1.0 or 0.0 and an
# absent pan limit is NaN.
FIELDS = ("lon", "lat", "heading_deg", "fov_deg", "range_m", "pan_min_deg", "pan_max_deg", "ptz", "dome")
# (range, width) pairs repeat across a registry: the chord count of each is worked out once.
_chords = functools.lru_cache(maxsize=1 << 16)(arc_segments)


def sector_rings(table: FloatArray) -> tuple[FloatArray, IntArray]:
    """geo.sector.sector_ring of every row, one after the other as (points, 2), and each ring's size."""
    chords = np.array([_chords(r, w) for r, w in table[:, [Col.RANGE, Col.WIDTH]].tolist()], np.int64)
    wedge = table[:, Col.WIDTH] < TAU
    sizes = chords + 1 + 2 * wedge
    ends = np.cumsum(sizes)
    arc = ends - sizes + wedge  # where each arc starts: after the apex of a wedge
    # The operations of geo.sector.arc_xy in the same order, so the same bits. The ring runs against the
    # bearings: its k-th arc point is point j = chords - k of np.linspace(0, width, chords + 1), which is
    # j steps of width / chords but exactly the width at j = chords. A wedge's apexes are set afterwards.
    width = table[:, Col.WIDTH]
    theta = np.repeat(chords + arc, sizes) - np.arange(int(sizes.sum()))
    theta = theta * np.repeat(width / chords, sizes)
    theta[arc] = width
    theta += np.repeat(table[:, Col.START], sizes)
    radius = np.repeat(table[:, Col.RANGE], sizes)
    rings = np.empty((len(theta), 2), dtype=np.float64)
    for axis, col, trig in ((0, Col.X, np.sin), (1, Col.Y, np.cos)):
        along = trig(theta)
        along *= radius
        along += np.repeat(table[:, col], sizes)
        rings[:, axis] = along
    apex = table[wedge][:, [Col.X, Col.Y]]
    rings[arc[wedge] - 1] = apex
    rings[ends[wedge] - 1] = apex
    return rings, sizes
