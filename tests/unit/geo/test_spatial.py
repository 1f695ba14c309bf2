"""The box tree answers like a brute-force scan, across loaded boxes, changes since and repeated slots."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.spatial import BoxTree

Box = tuple[float, float, float, float]


def _box(rng: np.random.Generator) -> Box:
    x, y = rng.uniform(0.0, 100.0, 2)
    w, h = rng.uniform(0.0, 20.0, 2)
    return (float(x), float(y), float(x + w), float(y + h))


def _meets(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


@settings(parent=settings.get_profile("geo"))
@given(st.integers(0, 60), st.integers(0, 80), st.integers(0, 2**32 - 1))
def test_queries_match_a_scan_after_changes(loaded: int, changes: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    boxes = {slot: _box(rng) for slot in range(loaded)}
    packed = np.array([boxes[s] for s in range(loaded)]).reshape(loaded, 4)
    tree = BoxTree(packed[:, :2], packed[:, 2:])
    for _ in range(changes):
        slot = int(rng.integers(0, loaded + 20))  # packed slots and new ones, each changed again and again
        if slot in boxes:
            tree.delete(slot, boxes.pop(slot))
        if rng.random() < 0.6:
            boxes[slot] = _box(rng)
            tree.insert(slot, boxes[slot])
    for _ in range(20):
        query = _box(rng)
        found = tree.intersecting(*query).tolist()
        assert sorted(found) == sorted(s for s, b in boxes.items() if _meets(b, query))
        assert len(found) == len(set(found))


def test_an_empty_tree_finds_nothing() -> None:
    tree = BoxTree()
    assert tree.intersecting(0.0, 0.0, 1.0, 1.0).tolist() == []
    tree.insert(3, (0.5, 0.5, 2.0, 2.0))
    assert tree.intersecting(0.0, 0.0, 1.0, 1.0).tolist() == [3]
    assert tree.holds_all(0.0, 0.0, 2.0, 2.0) and not tree.holds_all(0.0, 0.0, 1.0, 1.0)
