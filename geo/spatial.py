"""Integer-keyed boxes with cheap single-box queries: packed when loaded, an rtree for changes since."""

from __future__ import annotations

import ctypes
import math

import numpy as np
import numpy.typing as npt
import shapely
from rtree import core, index

from geo.crs import FloatArray

IntArray = npt.NDArray[np.int64]

# Measured on 37k and 1M sector boxes: small nodes answer the typical 10-100-result queries fastest.
_NODE_CAPACITY = 16
_FIRST_CAPACITY = 1024  # results a query holds before its buffer must grow
_Box = ctypes.c_double * 2


def _properties() -> index.Property:
    props = index.Property()
    props.dimension = 2
    props.leaf_capacity = _NODE_CAPACITY
    props.index_capacity = _NODE_CAPACITY
    props.near_minimum_overlap_factor = _NODE_CAPACITY // 2  # must stay below the capacities
    return props


class BoxTree:
    """Boxes keyed by slot number: slots 0..n-1 given at construction, then inserts and deletes."""

    # The boxes given at construction go into GEOS's packed STRtree, which answers a query in half the time
    # libspatialindex takes (7 us instead of 14 at 37k boxes, 10 instead of 23 at 1M) but cannot change.
    # Boxes inserted later go to an rtree, asked only while it holds any; packed boxes deleted since are
    # masked out of answers. Loading again packs everything.

    def __init__(self, mins: FloatArray | None = None, maxs: FloatArray | None = None) -> None:
        mins = np.empty((0, 2)) if mins is None else mins
        maxs = np.empty((0, 2)) if maxs is None else maxs
        # Each box's diagonal: the same envelope as the box, in a third of the memory of a polygon.
        self._packed = shapely.STRtree(shapely.linestrings(np.stack([mins, maxs], axis=1)))
        # Queries pass the query box in this one-element array: given a bare geometry, shapely spends 2 us
        # wrapping it in one (np.expand_dims).
        self._query = np.empty(1, dtype=np.object_)
        self._gone = np.zeros(len(mins), dtype=np.bool_)  # packed boxes deleted since
        self._any_gone = False
        self._later = _Rtree()
        # Kept here because the trees' own bounds cost ten microseconds a call; deletes never shrink it.
        self._extent = (math.inf, math.inf, -math.inf, -math.inf)
        if len(mins):
            self._widen(*mins.min(axis=0).tolist(), *maxs.max(axis=0).tolist())

    def insert(self, slot: int, box: tuple[float, float, float, float]) -> None:
        """Adds one box (its slot must hold none)."""
        self._later.insert(slot, box)
        self._widen(*box)

    def delete(self, slot: int, box: tuple[float, float, float, float]) -> None:
        """Removes one box, given exactly as inserted."""
        if slot < len(self._gone) and not self._gone[slot]:
            self._gone[slot] = self._any_gone = True
        else:
            self._later.delete(slot, box)

    def holds_all(self, minx: float, miny: float, maxx: float, maxy: float) -> bool:
        """Whether the box holds every box ever inserted (and so every box there is)."""
        lowx, lowy, highx, highy = self._extent
        return minx <= lowx and miny <= lowy and maxx >= highx and maxy >= highy

    def intersecting(self, minx: float, miny: float, maxx: float, maxy: float) -> IntArray:
        """Slots whose boxes meet the query box."""
        self._query[0] = shapely.box(minx, miny, maxx, maxy)
        found: IntArray = self._packed.query(self._query)[1]  # rows: (query number, box number)
        if self._any_gone:
            found = found[~self._gone.take(found)]
        if self._later.count:
            found = np.concatenate([found, self._later.intersecting(minx, miny, maxx, maxy)])
        return found

    def _widen(self, minx: float, miny: float, maxx: float, maxy: float) -> None:
        lowx, lowy, highx, highy = self._extent
        self._extent = (min(lowx, minx), min(lowy, miny), max(highx, maxx), max(highy, maxy))


class _Rtree:
    """A libspatialindex rtree of slot boxes, queried through its vectorised entry point."""

    # One result buffer per tree, reused by every query: like libspatialindex itself, not thread-safe.

    def __init__(self) -> None:
        self._tree = index.Index(properties=_properties())
        self.count = 0
        self._mins, self._maxs = _Box(), _Box()
        self._count = (ctypes.c_uint64 * 1)()
        self._done = ctypes.c_int64(0)
        self._done_ref = ctypes.byref(self._done)
        self._grow(_FIRST_CAPACITY)

    def insert(self, slot: int, box: tuple[float, float, float, float]) -> None:
        """Adds one box."""
        self._tree.insert(slot, box)
        self.count += 1

    def delete(self, slot: int, box: tuple[float, float, float, float]) -> None:
        """Removes one box, given exactly as inserted."""
        self._tree.delete(slot, box)
        self.count -= 1

    def intersecting(self, minx: float, miny: float, maxx: float, maxy: float) -> IntArray:
        """Slots whose boxes meet the query box."""
        mins, maxs = self._mins, self._maxs
        mins[0], mins[1], maxs[0], maxs[1] = minx, miny, maxx, maxy
        while True:
            # rtree's vectorised entry point called directly (one box, dimension 2, strides 2 and 1):
            # the generic wrappers cost two to three times the query itself.
            handle, out, count, capacity = self._tree.handle, self._out, self._count, self._capacity
            core.rt.Index_Intersects_id_v(
                handle, 1, 2, capacity, 2, 1, mins, maxs, out, count, self._done_ref
            )
            if self._done.value == 1:
                return self._found[: count[0]].copy()  # a copy: the buffer serves the next query
            self._grow(4 * capacity)

    def _grow(self, capacity: int) -> None:
        self._capacity = capacity
        self._out = (ctypes.c_int64 * capacity)()
        self._found: IntArray = np.ctypeslib.as_array(self._out)
