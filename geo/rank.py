"""Matched cameras: distance and true bearing to the caller, PTZ aim, and the three orders answers use."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from geo.aim import Aim, aim
from geo.camera import Camera, Kind
from geo.coverage import Assessment, Table
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


def _keys(order: Order, cameras: Sequence[Camera], picks: Sequence[int], distance: list[float],
          flags: list[bool], shares: list[float]) -> list[tuple[object, ...]]:
    """Sort keys ending in the position; the camera id breaks exact ties so answers are deterministic."""
    if order == "distance":
        return [(distance[i], cameras[i].camera_id, i) for i in picks]
    if order == "coverage":
        return [(-shares[i], distance[i], cameras[i].camera_id, i) for i in picks]
    # Covering before not, online before offline, then more coverage, then nearer.
    return [(not flags[i], not cameras[i].online, -shares[i], distance[i], cameras[i].camera_id, i)
            for i in picks]


def ranked(
    cameras: Sequence[Camera],
    rows: Table,
    found: Assessment,
    picks: Sequence[int],
    order: Order,
    limit: int | None = None,
) -> list[Match]:
    """Matches for picked positions of parallel cameras/rows/assessment, sorted by order; at most limit."""
    distance, toward = found.distance.tolist(), found.toward.tolist()
    flags, shares = found.covers.tolist(), found.coverage.tolist()
    convergence = rows[:, Col.CONV].tolist()
    matches = []
    for key in sorted(_keys(order, cameras, picks, distance, flags, shares))[:limit]:
        i: int = key[-1]  # type: ignore[assignment]
        camera, dist = cameras[i], distance[i]
        # True bearing = grid bearing + convergence at the camera; 0 when the caller is at the camera.
        bearing = (math.degrees(toward[i]) + convergence[i]) % 360.0 if dist > 0.0 else 0.0
        pointing = aim(camera, bearing, dist) if flags[i] and camera.kind is Kind.PTZ else None
        matches.append(Match(camera, dist, bearing, flags[i], shares[i], pointing))
    return matches
