"""The in-process camera index: which cameras see a caller's region, and which are nearest."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from geo.aim import Aim
from geo.camera import Camera
from geo.coverage import Assessment, BoolArray, Relation, Table, assess, assess_disk, relate
from geo.crs import Projector
from geo.errors import GeoError
from geo.gcpause import paused_gc
from geo.rank import Match, Pool, ranked
from geo.region import Region
from geo.sector import N_COLS, Col, sector_boxes, view_columns
from geo.spatial import BoxTree, IntArray

__all__ = ["Aim", "CameraIndex", "Match"]

# Query boxes grow by a millimetre so that sectors merely touching the region are still candidates.
_SLACK_M = 0.001
_BAND_M = 250.0  # height of the east-west bands that order slots at load
# Half-width of the first square searched for the nearest cameras. In a dense core (230 cameras per km²) the
# 10th nearest is about 120 m away, so this one query nearly always suffices; sparser places search again.
_NEAR_M = 160.0


class CameraIndex:
    """Cameras by id with their metric view sectors, in one tree of reach boxes."""

    # Not thread-safe (queries reuse the box tree's buffers, and libspatialindex caches nodes even on
    # reads): use it from one thread, such as the service's event loop, or behind a lock. The box tree
    # finds the nearest cameras too (see _candidates): one query per match instead of two.

    def __init__(self, projector: Projector) -> None:
        self._projector = projector
        self._rows: Table = np.empty((0, N_COLS))  # view table, one row per slot
        self._boxes: npt.NDArray[np.float64] = np.empty((0, 4))  # reach box per slot, to delete it later
        self._online: npt.NDArray[np.bool_] = np.empty(0, dtype=np.bool_)  # ranking reads it without objects
        self._cameras: list[Camera | None] = []
        self._slots: dict[str, int] = {}
        self._free: list[int] = []
        self._reach = BoxTree()

    def load(self, cameras: Iterable[Camera]) -> None:
        """Replaces the contents with these cameras (the last of a repeated id wins); all or nothing."""
        with paused_gc():
            self._load(cameras)

    def _load(self, cameras: Iterable[Camera]) -> None:
        by_id = {c.camera_id: c for c in cameras}
        latest = list(by_id.values())
        rows = view_columns(latest, self._projector)
        online = np.fromiter((c.online for c in latest), dtype=np.bool_, count=len(latest))
        # Slots in spatial order: a query's candidates then sit close together in memory.
        order = np.lexsort((rows[:, Col.X], np.floor(rows[:, Col.Y] / _BAND_M)))
        slot_of = np.empty(len(order), dtype=np.int64)
        slot_of[order] = np.arange(len(order))
        rows = rows[order]
        mins, maxs = sector_boxes(rows)
        reach = BoxTree(mins, maxs)
        self._rows, self._boxes, self._online = rows, np.hstack([mins, maxs]), online[order]
        self._cameras = [latest[i] for i in order.tolist()]
        self._slots = dict(zip(by_id, slot_of.tolist(), strict=True))  # in input order: kinder to caches
        self._free = []
        self._reach = reach

    def upsert(self, camera: Camera) -> None:
        """Inserts or replaces one camera; a bad camera raises GeoError and changes nothing."""
        row = view_columns([camera], self._projector)
        mins, maxs = sector_boxes(row)
        slot = self._slots.get(camera.camera_id)
        if slot is not None and np.array_equal(row[0], self._rows[slot]):
            self._cameras[slot] = camera  # status or metadata only: the sector is unchanged
            self._online[slot] = camera.online
            return
        if slot is not None:
            self._unindex(slot)
        else:
            slot = self._claim_slot()
        box = (float(mins[0, 0]), float(mins[0, 1]), float(maxs[0, 0]), float(maxs[0, 1]))
        self._rows[slot] = row[0]
        self._boxes[slot] = box
        self._online[slot] = camera.online
        self._reach.insert(slot, box)
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
        minx, miny, maxx, maxy = region.bbox
        slots = self._within_box(minx, miny, maxx, maxy)
        rows = self._rows.take(slots, 0)
        pool = self._pool(slots, rows, assess(rows, region))
        return ranked(pool, pool.found.covers, "coverage")

    def nearby(self, x: float, y: float, k: int = 10, within_m: float = 500.0) -> list[Match]:
        """The k cameras nearest metric (x, y) within within_m, by distance; covers means sees the point."""
        slots, rows, rel = self._candidates((x, y, x, y), x, y, k, within_m)
        pool = self._pool(slots, rows, assess_disk(rows, x, y, 0.0, rel))
        return ranked(pool, _nearest(pool, k, within_m), "distance")

    def match(self, region: Region, k: int = 10, within_m: float = 500.0, limit: int = 50) -> list[Match]:
        """Covering cameras and the k nearest, ranked (covers, online, coverage, distance); at most limit."""
        _check_count("limit", limit)
        slots, rows, rel = self._candidates(region.bbox, region.x, region.y, k, within_m)
        pool = self._pool(slots, rows, assess(rows, region, rel))
        return ranked(pool, pool.found.covers | _nearest(pool, k, within_m), "match", limit)

    def _pool(self, slots: IntArray, rows: Table, found: Assessment) -> Pool:
        return Pool(self._cameras, slots, rows, found, self._online.take(slots))

    def _candidates(
        self, box: tuple[float, float, float, float], x: float, y: float, k: int, within_m: float
    ) -> tuple[IntArray, Table, Relation]:
        """Slots and rows of the cameras whose reach boxes meet box and of all that may be among the k
        nearest (x, y), with (x, y) related to each."""
        _check_near(k, within_m, x, y)
        minx, miny, maxx, maxy = box
        # One query serves both: a square about (x, y) with k cameras in its inscribed circle holds the
        # k nearest, since each camera's reach box holds the camera.
        near = 0.0 if k == 0 else max(_NEAR_M, min(x - minx, y - miny, maxx - x, maxy - y))
        while True:
            near = min(near, within_m)
            slots = self._within_box(
                min(minx, x - near), min(miny, y - near), max(maxx, x + near), max(maxy, y + near)
            )
            rows = self._rows.take(slots, 0)
            rel = relate(rows, x, y)
            found = int(np.count_nonzero(rel.d <= near))
            if (
                near >= within_m
                or found >= k
                or self._reach.holds_all(x - near, y - near, x + near, y + near)
            ):
                return slots, rows, rel
            near *= _widening(k, found)

    def _within_box(self, minx: float, miny: float, maxx: float, maxy: float) -> IntArray:
        s = _SLACK_M
        return self._reach.intersecting(minx - s, miny - s, maxx + s, maxy + s)

    def _claim_slot(self) -> int:
        if self._free:
            return self._free.pop()
        slot = len(self._cameras)
        if slot == len(self._rows):  # grow the arrays geometrically so upserts stay amortised O(1)
            grow = max(16, slot)
            self._rows = np.vstack([self._rows, np.zeros((grow, N_COLS))])
            self._boxes = np.vstack([self._boxes, np.zeros((grow, 4))])
            self._online = np.concatenate([self._online, np.zeros(grow, dtype=np.bool_)])
        self._cameras.append(None)
        return slot

    def _unindex(self, slot: int) -> None:
        minx, miny, maxx, maxy = self._boxes[slot].tolist()
        self._reach.delete(slot, (minx, miny, maxx, maxy))


def _nearest(pool: Pool, k: int, within_m: float) -> BoolArray:
    """Which candidates are the k nearest the point within within_m; ties go to the smaller camera id."""
    order = pool.found.distance.argsort()
    distance = pool.found.distance.take(order)
    count = min(k, int(distance.searchsorted(within_m, side="right")))
    nearest = np.zeros(len(order), dtype=np.bool_)
    if count == 0 or count == len(order) or distance[count] > distance[count - 1]:
        nearest[order[:count]] = True
        return nearest
    last = distance[count - 1]  # tied with the next: the smaller ids among the tied take the last places
    sure = order[distance < last]
    tied = sorted(order[distance == last].tolist(), key=lambda i: pool.camera(i).camera_id)
    nearest[sure] = True
    nearest[tied[: count - len(sure)]] = True
    return nearest


def _widening(k: int, found: int) -> float:
    """How much wider to search after finding fewer than k cameras within the last search's reach."""
    # To where k cameras should be at the density found so far: a camera-rich edge of a sparse place then
    # takes a few small steps rather than one large one.
    return min(4.0, max(1.25, 1.2 * math.sqrt(k / max(found, 1))))


def _check_near(k: int, within_m: float, x: float, y: float) -> None:
    _check_count("k", k)
    if not (math.isfinite(within_m) and within_m >= 0.0):
        raise GeoError("within_m", f"{within_m} is not a non-negative finite distance")
    if not (math.isfinite(x) and math.isfinite(y)):
        raise GeoError("x", "the point must have finite coordinates")


def _check_count(field: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GeoError(field, f"{value!r} is not a non-negative whole number")
