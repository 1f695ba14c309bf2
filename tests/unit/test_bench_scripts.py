"""The benchmarks are not run by the tests, but their modules must still load against today's code."""

from __future__ import annotations

import importlib

import pytest

BENCHES = ["bench_calls", "bench_detections", "bench_fanout", "bench_geo", "bench_import"]


@pytest.mark.parametrize("name", BENCHES)
def test_bench_module_loads_and_has_a_main(name: str) -> None:
    # Module-level SQL and constants are built from the service's modules: a renamed one breaks here.
    module = importlib.import_module(name)
    assert callable(getattr(module, "main", None))
