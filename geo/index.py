"""The in-process camera index: which cameras see a caller's region, and which are nearest."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from geo.aim import Aim
from geo.camera import Camera
from geo.coverage import Table, assess, assess_disk
from geo.crs import Projector
from geo.errors import GeoError
from geo.rank import Match, ranked
from geo.region import Region
from geo.sector import N_COLS, sector_boxes, view_columns
from geo.spatial import BoxTree

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
        slots = self._reach_candidates(region)
        rows = self._rows[slots]
        found = assess(rows, region)
        return ranked(self._at(slots), rows, found, np.flatnonzero(found.covers).tolist(), "coverage")

    def nearby(self, x: float, y: float, k: int = 10, within_m: float = 500.0) -> list[Match]:
        """The k cameras nearest metric (x, y) within within_m, by distance; covers means sees the point."""
        slots = self._near_candidates(x, y, k, within_m)
        rows = self._rows[slots]
        cameras = self._at(slots)
        found = assess_disk(rows, x, y, 0.0)
        picks = _nearest(cameras, range(len(slots)), found.distance.tolist(), k, within_m)
        return ranked(cameras, rows, found, picks, "distance")

    def match(self, region: Region, k: int = 10, within_m: float = 500.0, limit: int = 50) -> list[Match]:
        """Covering cameras and the k nearest, ranked (covers, online, coverage, distance); at most limit."""
        _check_count("limit", limit)
        slots = self._reach_candidates(region)
        near = self._near_candidates(region.x, region.y, k, within_m)
        # One pass over the union: nearby cameras outside the reach candidates cannot cover the region.
        where = {s: i for i, s in enumerate(slots)}
        for s in near:
            if s not in where:
                where[s] = len(slots)
                slots.append(s)
        rows = self._rows[slots]
        cameras = self._at(slots)
        found = assess(rows, region)
        flags = found.covers.tolist()
        nearest = _nearest(cameras, [where[s] for s in near], found.distance.tolist(), k, within_m)
        picks = [i for i, f in enumerate(flags) if f] + [i for i in nearest if not flags[i]]
        return ranked(cameras, rows, found, picks, "match", limit)

    def _reach_candidates(self, region: Region) -> list[int]:
        minx, miny, maxx, maxy = region.bbox
        slack = _SLACK_M
        return self._reach.intersecting(minx - slack, miny - slack, maxx + slack, maxy + slack)

    def _near_candidates(self, x: float, y: float, k: int, within_m: float) -> list[int]:
        """The rtree's k nearest within within_m, plus any tied with the k-th."""
        _check_count("k", k)
        if not (math.isfinite(within_m) and within_m >= 0.0):
            raise GeoError("within_m", f"{within_m} is not a non-negative finite distance")
        if not (math.isfinite(x) and math.isfinite(y)):
            raise GeoError("x", "the point must have finite coordinates")
        if k == 0:
            return []
        return self._points.nearest(x, y, k, within_m)

    def _at(self, slots: list[int]) -> list[Camera]:
        cameras = self._cameras
        return [cameras[s] for s in slots]  # type: ignore[misc]  # indexed slots always hold a camera

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


def _nearest(cameras: Sequence[Camera], picks: Iterable[int], distance: list[float], k: int,
             within_m: float) -> list[int]:
    """The k picked positions nearest the point within within_m; exact ties go to the smaller camera id."""
    keyed = sorted((distance[i], cameras[i].camera_id, i) for i in picks if distance[i] <= within_m)
    return [i for _, _, i in keyed[:k]]
