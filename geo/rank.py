"""Matched cameras: distance and true bearing to the caller, PTZ aim, and the three orders answers use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from geo.aim import Aim, aim
from geo.camera import Camera
from geo.coverage import BoolArray, Table
from geo.crs import FloatArray
from geo.sector import Col

Order = Literal["coverage", "distance", "match"]


@dataclass(frozen=True, slots=True)
class Match:
    """A camera matched to a region; distance and true bearing are from the camera to the region's centre."""

    camera: Camera
    distance_m: float
    bearing_deg: float
    covers: bool
    coverage: float
    aim: Aim | None


def toward(rows: Table, cx: float, cy: float) -> tuple[FloatArray, FloatArray]:
    """Grid distance and true bearing (0..360) from each row's camera to (cx, cy); bearing 0 when on it."""
    dx = cx - rows[:, Col.X]
    dy = cy - rows[:, Col.Y]
    distance = np.hypot(dx, dy)
    bearing = (np.degrees(np.arctan2(dx, dy)) + rows[:, Col.CONV]) % 360.0
    return distance, np.where(distance > 0.0, bearing, 0.0)


_Key = Callable[[Camera, float, bool, float], tuple[object, ...]]
_KEYS: dict[Order, _Key] = {
    "coverage": lambda cam, dist, covers, share: (-share, dist, cam.camera_id),
    "distance": lambda cam, dist, covers, share: (dist, cam.camera_id),
    # Covering before not, online before offline, then more coverage, then nearer.
    "match": lambda cam, dist, covers, share: (not covers, not cam.online, -share, dist, cam.camera_id),
}


def ranked(
    cameras: Sequence[Camera],
    rows: Table,
    covers: BoolArray,
    coverage: FloatArray,
    centre: tuple[float, float],
    order: Order,
    limit: int | None = None,
) -> list[Match]:
    """Matches for parallel camera/row/covers/coverage sequences, sorted by order, at most limit of them."""
    distance, bearing = (a.tolist() for a in toward(rows, *centre))
    flags, shares = covers.tolist(), coverage.tolist()
    key = _KEYS[order]
    chosen = sorted(range(len(cameras)), key=lambda i: key(cameras[i], distance[i], flags[i], shares[i]))
    return [
        Match(cameras[i], distance[i], bearing[i], flags[i], shares[i],
              aim(cameras[i], bearing[i], distance[i]) if flags[i] else None)
        for i in chosen[:limit]
    ]
