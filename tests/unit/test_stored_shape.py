"""The region shape stored on an incident."""

from __future__ import annotations

import math

import pytest
import shapely

from dispatch.calls.matching import stored_shape
from geo import region as regions
from geo.crs import Projector

PROJECTOR = Projector("EPSG:32648")


@pytest.mark.parametrize("radius_m", [0.5, 30.0, 4000.0])
def test_a_circle_is_stored_as_its_disk(radius_m: float) -> None:
    region = regions.circle(PROJECTOR, 10.77, 106.70, radius_m, 0.95)
    disk = shapely.from_wkb(stored_shape(region))
    assert disk.geom_type == "Polygon" and disk.is_valid
    for x, y in disk.exterior.coords:
        assert math.hypot(x - region.x, y - region.y) == pytest.approx(region.radius_m)
    assert disk.area == pytest.approx(math.pi * (region.radius_m or 0) ** 2, rel=0.01)


def test_other_shapes_are_stored_exactly() -> None:
    region = regions.ellipse(PROJECTOR, 10.77, 106.70, 80.0, 20.0, 30.0, 0.95)
    assert shapely.from_wkb(stored_shape(region)).equals(region.geometry)
