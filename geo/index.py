"""The in-process camera index: which cameras see a caller's region, and which are nearest."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from geo.aim import Aim
from geo.camera import Camera
from geo.coverage import Table, assess
from geo.crs import Projector
from geo.errors import GeoError
from geo.rank import Match, ranked
from geo.region import Region, point_region
from geo.sector import N_COLS, sector_boxes, view_columns
from geo.spatial import BoxTree, IntArray

__all__ = ["Aim", "CameraIndex", "Match"]

# Query boxes grow by a millimetre so that sectors merely touching the region are still candidates.
_SLACK_M = 0.001


class CameraIndex:
    """Cameras by id with their metric view sectors in two rtrees: reach boxes and positions."""

    def __init__(self, projector: Projector) -> None:
        self._projector = projector
        self._rows: Table = np.empty((0, N_COLS))  # view table, one row per slot
        self._boxes: npt.NDArray[np.float64] = np.empty((0, 4))  # reach box per slot, to delete it later
        self._cameras: list[Camera | None] = []
        self._slots: dict[str, int] = {}
        self._free: list[int] = []
        self._reach = BoxTree()
        self._points = BoxTree()

    def load(self, cameras: Iterable[Camera]) -> None:
        """Replaces the contents with these cameras (the last of a repeated id wins); all or nothing."""
        latest = list({c.camera_id: c for c in cameras}.values())
        rows = view_columns(latest, self._projector)
        mins, maxs = sector_boxes(rows)
        slots = np.arange(len(latest), dtype=np.int64)
        positions = rows[:, :2].copy()
        reach, points = BoxTree(slots, mins, maxs), BoxTree(slots, positions, positions)
        self._rows, self._boxes = rows, np.hstack([mins, maxs])
        self._cameras = list(latest)
        self._slots = {c.camera_id: i for i, c in enumerate(latest)}
        self._free = []
        self._reach, self._points = reach, points

    def upsert(self, camera: Camera) -> None:
        """Inserts or replaces one camera; a bad camera raises GeoError and changes nothing."""
        row = view_columns([camera], self._projector)
        mins, maxs = sector_boxes(row)
        slot = self._slots.get(camera.camera_id)
        if slot is not None and np.array_equal(row[0], self._rows[slot]):
            self._cameras[slot] = camera  # status or metadata only: the sector is unchanged
            return
        if slot is not None:
            self._unindex(slot)
        else:
            slot = self._claim_slot()
        box = (float(mins[0, 0]), float(mins[0, 1]), float(maxs[0, 0]), float(maxs[0, 1]))
        self._rows[slot] = row[0]
        self._boxes[slot] = box
        self._reach.insert(slot, box)
        x, y = float(row[0, 0]), float(row[0, 1])
        self._points.insert(slot, (x, y, x, y))
        self._cameras[slot] = camera
        self._slots[camera.camera_id] = slot

    def remove(self, camera_id: str) -> bool:
        """Removes a camera; False when there was none with this id."""
        slot = self._slots.pop(camera_id, None)
        if slot is None:
            return False
        self._unindex(slot)
        self._cameras[slot] = None
        self._free.append(slot)
        return True

    def get(self, camera_id: str) -> Camera | None:
        """The camera with this id, if indexed."""
        slot = self._slots.get(camera_id)
        return None if slot is None else self._cameras[slot]

    def __len__(self) -> int:
        return len(self._slots)

    def covering(self, region: Region) -> list[Match]:
        """Cameras whose view (PTZ: reach) sector meets the region, by coverage desc then distance."""
        slots, covers, coverage = self._covering(region)
        return ranked(self._at(slots), self._rows[slots], covers, coverage, (region.x, region.y), "coverage")

    def nearby(self, x: float, y: float, k: int = 10, within_m: float = 500.0) -> list[Match]:
        """The k cameras nearest metric (x, y) within within_m, by distance; covers means sees the point."""
        slots = self._nearest(x, y, k, within_m)
        rows = self._rows[slots]
        covers, coverage = assess(rows, point_region(x, y))
        return ranked(self._at(slots), rows, covers, coverage, (x, y), "distance")

    def match(self, region: Region, k: int = 10, within_m: float = 500.0, limit: int = 50) -> list[Match]:
        """Covering cameras and the k nearest, ranked (covers, online, coverage, distance); at most limit."""
        _check_count("limit", limit)
        slots, covers, coverage = self._covering(region)
        near = self._nearest(region.x, region.y, k, within_m)
        extra = near[~np.isin(near, slots)]
        slots = np.concatenate([slots, extra])
        covers = np.concatenate([covers, np.zeros(len(extra), dtype=np.bool_)])
        coverage = np.concatenate([coverage, np.zeros(len(extra))])
        centre = (region.x, region.y)
        return ranked(self._at(slots), self._rows[slots], covers, coverage, centre, "match", limit)

    def _covering(self, region: Region) -> tuple[IntArray, npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
        minx, miny, maxx, maxy = region.bbox
        slack = _SLACK_M
        candidates = self._reach.intersecting(minx - slack, miny - slack, maxx + slack, maxy + slack)
        covers, coverage = assess(self._rows[candidates], region)
        return candidates[covers], covers[covers], coverage[covers]

    def _nearest(self, x: float, y: float, k: int, within_m: float) -> IntArray:
        _check_count("k", k)
        if not (math.isfinite(within_m) and within_m >= 0.0):
            raise GeoError("within_m", f"{within_m} is not a non-negative finite distance")
        if not (math.isfinite(x) and math.isfinite(y)):
            raise GeoError("x", "the point must have finite coordinates")
        if k == 0:
            return np.empty(0, dtype=np.int64)
        found = self._points.nearest(x, y, k, within_m)
        rows = self._rows[found]
        distance = np.hypot(rows[:, 0] - x, rows[:, 1] - y)
        # The tree returns every camera tied at the k-th distance: ties go to the smaller camera id.
        order = sorted(range(len(found)), key=lambda i: (distance[i], self._id(int(found[i]))))
        keep = [i for i in order if distance[i] <= within_m][:k]
        return found[keep]

    def _at(self, slots: IntArray) -> list[Camera]:
        cameras = self._cameras
        return [cameras[s] for s in slots.tolist()]

    def _id(self, slot: int) -> str:
        camera = self._cameras[slot]
        return "" if camera is None else camera.camera_id

    def _claim_slot(self) -> int:
        if self._free:
            return self._free.pop()
        slot = len(self._cameras)
        if slot == len(self._rows):  # grow the arrays geometrically so upserts stay amortised O(1)
            grow = max(16, slot)
            self._rows = np.vstack([self._rows, np.zeros((grow, N_COLS))])
            self._boxes = np.vstack([self._boxes, np.zeros((grow, 4))])
        self._cameras.append(None)
        return slot

    def _unindex(self, slot: int) -> None:
        minx, miny, maxx, maxy = self._boxes[slot].tolist()
        box = (minx, miny, maxx, maxy)
        self._reach.delete(slot, box)
        x, y = float(self._rows[slot, 0]), float(self._rows[slot, 1])
        self._points.delete(slot, (x, y, x, y))


def _check_count(field: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GeoError(field, f"{value!r} is not a non-negative whole number")
