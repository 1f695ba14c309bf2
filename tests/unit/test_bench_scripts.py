"""The benchmarks are not run by the tests, but their modules must still load against today's code."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

# Every benchmark in scripts/, so that a new one is covered without being listed here.
BENCHES = sorted(path.stem for path in (Path(__file__).parents[2] / "scripts").glob("bench_*.py"))


@pytest.mark.parametrize("name", BENCHES)
def test_bench_module_loads_and_has_a_main(name: str) -> None:
    # Module-level SQL and constants are built from the service's modules: a renamed one breaks here.
    module = importlib.import_module(name)
    assert callable(getattr(module, "main", None))


def test_the_benchmarks_are_found() -> None:
    # An empty glob would parametrise the test above into nothing.
    assert {"bench_calls", "bench_detections", "bench_geo"} <= set(BENCHES)
