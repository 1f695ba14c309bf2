"""An rtree of integer-keyed boxes with cheap single-box queries."""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from rtree import core, index

from geo.crs import FloatArray

IntArray = npt.NDArray[np.int64]

# Measured on 37k and 1M sector boxes: small nodes answer the typical 10-100-result queries fastest.
_NODE_CAPACITY = 16
_Box = ctypes.c_double * 2


def _properties() -> index.Property:
    props = index.Property()
    props.dimension = 2
    props.leaf_capacity = _NODE_CAPACITY
    props.index_capacity = _NODE_CAPACITY
    props.near_minimum_overlap_factor = _NODE_CAPACITY // 2  # must stay below the capacities
    return props


class BoxTree:
    """Boxes keyed by slot number; bulk-built by rtree stream loading from arrays."""

    def __init__(self, slots: IntArray | None = None, mins: FloatArray | None = None,
                 maxs: FloatArray | None = None) -> None:
        if slots is None or mins is None or maxs is None or len(slots) == 0:
            self._tree = index.Index(properties=_properties())
        else:
            self._tree = index.Index((slots, mins, maxs), properties=_properties())

    def insert(self, slot: int, box: tuple[float, float, float, float]) -> None:
        """Adds one box."""
        self._tree.insert(slot, box)

    def delete(self, slot: int, box: tuple[float, float, float, float]) -> None:
        """Removes one box, given exactly as inserted."""
        self._tree.delete(slot, box)

    def intersecting(self, minx: float, miny: float, maxx: float, maxy: float) -> list[int]:
        """Slots whose boxes meet the query box."""
        handle, mins, maxs = self._tree.handle, _Box(minx, miny), _Box(maxx, maxy)
        # rtree's vectorised entry points called directly (one box, dimension 2, strides 2 and 1):
        # the generic wrappers cost two to three times the query itself.
        return _ask(
            lambda cap, out, count, done: core.rt.Index_Intersects_id_v(
                handle, 1, 2, cap, 2, 1, mins, maxs, out, count, done
            ),
            256,
        )

    def nearest(self, x: float, y: float, k: int, max_dist: float) -> list[int]:
        """The k slots nearest (x, y) within max_dist; all of them when tied at the k-th distance."""
        handle, point = self._tree.handle, _Box(x, y)
        return _ask(
            lambda cap, out, count, done: core.rt.Index_NearestNeighbors_id_v(
                # max_dist goes in a fresh double: the library writes the k-th distance back into it.
                handle, k, 1, 2, cap, 2, 1, point, point, out, count, _fresh(max_dist), done
            ),
            max(4 * k, 16),
        )


_Query = Callable[[int, "ctypes.Array[ctypes.c_int64]", "ctypes.Array[ctypes.c_uint64]", Any], object]


def _ask(query: _Query, capacity: int) -> list[int]:
    """Runs a one-box query, growing the result buffer until everything fits."""
    while True:
        out = (ctypes.c_int64 * capacity)()
        count = (ctypes.c_uint64 * 1)()
        done = ctypes.c_int64(0)
        query(capacity, out, count, ctypes.byref(done))
        if done.value == 1:
            return out[: count[0]]  # slicing a ctypes array gives a list of ints
        capacity *= 4


def _fresh(value: float) -> object:
    return ctypes.byref(ctypes.c_double(value))
