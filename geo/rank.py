"""Matched cameras: distance and true bearing to the caller, PTZ aim, and the three orders answers use."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from geo.aim import Aim, aim
from geo.camera import Camera, Kind
from geo.coverage import Assessment, BoolArray, Table
from geo.sector import Col

Order = Literal["coverage", "distance", "match"]
# Above this many picks, numpy preselects the contenders for the first places before Python sorts them.
_SHORTLIST_ABOVE = 64


@dataclass(frozen=True, slots=True)
class Match:
    """A camera matched to a region; distance and true bearing are from the camera to the region's centre."""

    camera: Camera
    distance_m: float
    bearing_deg: float
    covers: bool
    coverage: float
    aim: Aim | None


class Pool(NamedTuple):
    """One query's candidate cameras: index slots, their view rows, assessment and online flags."""

    everyone: Sequence[Camera | None]  # the index's cameras by slot
    slots: list[int]
    rows: Table
    found: Assessment
    online: BoolArray

    def camera(self, i: int) -> Camera:
        """The i-th candidate's camera (fetched only when needed: touching objects costs cache misses)."""
        camera = self.everyone[self.slots[i]]
        assert camera is not None
        return camera


def _keys(order: Order, pool: Pool, picks: Sequence[int]) -> list[tuple[object, ...]]:
    """Sort keys ending in the position; the camera id breaks exact ties so answers are deterministic."""
    everyone, slots = pool.everyone, pool.slots
    distance = pool.found.distance.tolist()
    ids = [everyone[slots[i]].camera_id for i in picks]  # type: ignore[union-attr]
    if order == "distance":
        return [(distance[i], ids[n], i) for n, i in enumerate(picks)]
    shares = pool.found.coverage.tolist()
    if order == "coverage":
        return [(-shares[i], distance[i], ids[n], i) for n, i in enumerate(picks)]
    # Covering before not, online before offline, then more coverage, then nearer.
    flags, online = pool.found.covers.tolist(), pool.online.tolist()
    return [(not flags[i], not online[i], -shares[i], distance[i], ids[n], i) for n, i in enumerate(picks)]


def _shortlist(order: Order, pool: Pool, picks: Sequence[int], limit: int) -> list[int]:
    """The picks that can make the first limit places: numeric keys sorted in numpy, ties kept."""
    chosen = np.asarray(picks)
    numeric = [pool.found.distance[chosen]]  # np.lexsort sorts by the last key first
    if order != "distance":
        numeric.append(-pool.found.coverage[chosen])
    if order == "match":
        numeric.append(~pool.online[chosen])
        numeric.append(~pool.found.covers[chosen])
    keys = np.stack(numeric)
    ranking = np.lexsort(keys)
    sorted_keys = keys[:, ranking]
    # Keep everything tied with the last place on the numeric keys: the camera id decides among them.
    tied = (sorted_keys[:, limit:] == sorted_keys[:, limit - 1 : limit]).all(axis=0)
    end = limit + int(np.argmin(tied)) if not tied.all() else len(picks)
    return list(chosen[ranking[:end]].tolist())


def ranked(pool: Pool, picks: Sequence[int], order: Order, limit: int | None = None) -> list[Match]:
    """Matches for the picked candidates, sorted by order; at most limit."""
    if limit is not None and len(picks) > max(limit, _SHORTLIST_ABOVE):
        picks = _shortlist(order, pool, picks, limit) if limit else []
    distance, toward = pool.found.distance.tolist(), pool.found.toward.tolist()
    flags, shares = pool.found.covers.tolist(), pool.found.coverage.tolist()
    convergence = pool.rows[:, Col.CONV].tolist()
    everyone, slots, ptz = pool.everyone, pool.slots, Kind.PTZ
    matches = []
    for key in sorted(_keys(order, pool, picks))[:limit]:
        i: int = key[-1]  # type: ignore[assignment]
        camera, dist = everyone[slots[i]], distance[i]
        assert camera is not None
        # True bearing = grid bearing + convergence at the camera; 0 when the caller is at the camera.
        bearing = (math.degrees(toward[i]) + convergence[i]) % 360.0 if dist > 0.0 else 0.0
        pointing = aim(camera, bearing, dist) if flags[i] and camera.kind is ptz else None
        matches.append(Match(camera, dist, bearing, flags[i], shares[i], pointing))
    return matches
