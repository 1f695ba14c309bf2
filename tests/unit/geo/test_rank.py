"""Ranking: the numpy shortlist for long lists gives exactly the full Python sort's first places."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.camera import Camera
from geo.coverage import Assessment
from geo.rank import Order, Pool, ranked
from geo.sector import N_COLS


def _pool(cameras: list[Camera], found: Assessment) -> Pool:
    n = len(cameras)
    online = np.array([c.online for c in cameras])
    return Pool(cameras, list(range(n)), np.zeros((n, N_COLS)), found, online)


@settings(parent=settings.get_profile("geo"))
@given(st.integers(65, 200), st.integers(1, 80), st.sampled_from(["coverage", "distance", "match"]),
       st.integers(0, 2**32 - 1))
def test_shortlist_keeps_the_exact_order(n: int, limit: int, order: Order, seed: int) -> None:
    rng = np.random.default_rng(seed)
    cameras = [Camera(f"c{rng.integers(1000):03d}-{i}", 10.77, 106.7, online=bool(rng.random() < 0.7))
               for i in range(n)]
    # Few distinct values, so that many keys tie and the camera id has to decide.
    found = Assessment(rng.random(n) < 0.5, rng.integers(0, 3, n) / 2.0, rng.integers(0, 4, n) * 10.0,
                       rng.uniform(-3, 3, n))
    pool = _pool(cameras, found)
    full = ranked(pool, list(range(n)), order)[:limit]
    short = ranked(pool, list(range(n)), order, limit)
    assert [m.camera.camera_id for m in short] == [m.camera.camera_id for m in full]


def test_limit_zero() -> None:
    found = Assessment(np.ones(70, bool), np.ones(70), np.arange(70.0), np.zeros(70))
    pool = _pool([Camera(f"c{i}", 10.77, 106.7) for i in range(70)], found)
    assert ranked(pool, list(range(70)), "match", 0) == []
    assert len(ranked(pool, list(range(70)), "match", 3)) == 3


@pytest.mark.parametrize("order", ["coverage", "distance", "match"])
def test_short_lists_skip_the_shortlist(order: Order) -> None:
    found = Assessment(np.ones(5, bool), np.full(5, 0.5), np.arange(5.0)[::-1].copy(), np.zeros(5))
    pool = _pool([Camera(f"c{i}", 10.77, 106.7) for i in range(5)], found)
    assert [m.camera.camera_id for m in ranked(pool, list(range(5)), order, 2)] == ["c4", "c3"]
