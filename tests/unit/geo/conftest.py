"""Shared fixtures for geo/ tests: one projector and cameras placed by metric offsets."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from geo.crs import Projector

# GEO_EXAMPLES=2000 for a deep search; the default keeps the unit suite quick.
settings.register_profile(
    "geo", max_examples=int(os.environ.get("GEO_EXAMPLES", "60")), deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="session")
def projector() -> Projector:
    """The service's default projector, UTM zone 48N."""
    return Projector()
