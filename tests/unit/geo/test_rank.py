"""Ranking: numpy's sort on the numeric keys, ties broken by camera id, gives exactly the full key sort."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.camera import Camera
from geo.coverage import Assessment, BoolArray
from geo.rank import Order, Pool, ranked
from geo.sector import N_COLS


def _pool(cameras: list[Camera], found: Assessment) -> Pool:
    n = len(cameras)
    online = np.array([c.online for c in cameras], dtype=bool)
    return Pool(cameras, np.arange(n), np.zeros((n, N_COLS)), found, online)


def _chosen(n: int, picks: list[int]) -> BoolArray:
    chosen = np.zeros(n, dtype=bool)
    chosen[picks] = True
    return chosen


def _reference(order: Order, pool: Pool, picks: list[int]) -> list[str]:
    """The order INTERFACES.md describes, written as one Python sort on whole keys."""
    found = pool.found

    def key(i: int) -> tuple[object, ...]:
        camera = pool.camera(i)
        if order == "distance":
            return (found.distance[i], camera.camera_id)
        if order == "coverage":
            return (-found.coverage[i], found.distance[i], camera.camera_id)
        return (
            not found.covers[i],
            not camera.online,
            -found.coverage[i],
            found.distance[i],
            camera.camera_id,
        )

    return [pool.camera(i).camera_id for i in sorted(picks, key=key)]


@settings(parent=settings.get_profile("geo"))
@given(
    st.integers(1, 200),
    st.one_of(st.none(), st.integers(0, 80)),
    st.sampled_from(["coverage", "distance", "match"]),
    st.integers(0, 2**32 - 1),
)
def test_order_is_the_full_key_sort(n: int, limit: int | None, order: Order, seed: int) -> None:
    rng = np.random.default_rng(seed)
    cameras = [
        Camera(f"c{rng.integers(1000):03d}-{i}", 10.77, 106.7, online=bool(rng.random() < 0.7))
        for i in range(n)
    ]
    # Few distinct values, so that many keys tie and the camera id has to decide.
    found = Assessment(
        rng.random(n) < 0.5, rng.integers(0, 3, n) / 2.0, rng.integers(0, 4, n) * 10.0, rng.uniform(-3, 3, n)
    )
    pool = _pool(cameras, found)
    picks = rng.permutation(n)[: rng.integers(1, n + 1)].tolist()
    found_ids = [m.camera.camera_id for m in ranked(pool, _chosen(n, picks), order, limit)]
    assert found_ids == _reference(order, pool, picks)[:limit]


def test_limit_zero() -> None:
    found = Assessment(np.ones(70, bool), np.ones(70), np.arange(70.0), np.zeros(70))
    pool = _pool([Camera(f"c{i}", 10.77, 106.7) for i in range(70)], found)
    assert ranked(pool, np.ones(70, bool), "match", 0) == []
    assert len(ranked(pool, np.ones(70, bool), "match", 3)) == 3


def test_exact_ties_go_to_the_smaller_id() -> None:
    found = Assessment(np.ones(4, bool), np.full(4, 0.5), np.array([5.0, 5.0, 1.0, 5.0]), np.zeros(4))
    pool = _pool([Camera(name, 10.77, 106.7) for name in ("b", "c", "z", "a")], found)
    assert [m.camera.camera_id for m in ranked(pool, np.ones(4, bool), "match", 3)] == ["z", "a", "b"]
