"""Callsight's pure spatial engine: cameras, caller regions, view sectors, and the matching index."""

# Names are importable from here but load lazily, so that `import geo.camera` (used by the CLI) does not
# pay for numpy, shapely, pyproj and rtree.

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geo.aim import Aim
    from geo.camera import Camera, Kind
    from geo.crs import Projector, to_wgs84_from
    from geo.errors import GeoError
    from geo.index import CameraIndex
    from geo.rank import Match
    from geo.region import Region, arcband, circle, ellipse, normalise, polygon, region_json
    from geo.sector import sector_polygon, sector_polygon_wgs84

_HOMES = {
    "Aim": "geo.aim",
    "Camera": "geo.camera",
    "Kind": "geo.camera",
    "Projector": "geo.crs",
    "to_wgs84_from": "geo.crs",
    "GeoError": "geo.errors",
    "CameraIndex": "geo.index",
    "Match": "geo.rank",
    "Region": "geo.region",
    "arcband": "geo.region",
    "circle": "geo.region",
    "ellipse": "geo.region",
    "normalise": "geo.region",
    "polygon": "geo.region",
    "region_json": "geo.region",
    "sector_polygon": "geo.sector",
    "sector_polygon_wgs84": "geo.sector",
}

__all__ = [
    "Aim", "Camera", "CameraIndex", "GeoError", "Kind", "Match", "Projector", "Region", "arcband", "circle",
    "ellipse", "normalise", "polygon", "region_json", "sector_polygon", "sector_polygon_wgs84",
    "to_wgs84_from",
]


def __getattr__(name: str) -> object:
    """Loads a public name from its module on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module 'geo' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
