"""A brute-force oracle for the camera index, written from the contract alone with pyproj and shapely.

It shares no code with geo/ beyond the Camera record: its own transformer, pyproj's own convergence
(get_factors), its own sector polygons (0.2 degree steps) and region polygons, and plain loops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import Proj, Transformer
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo.camera import Camera, Kind

TOLERANCE_M = 0.005  # answers may differ within this band at sector and range boundaries
_FORWARD = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
_UTM = Proj("EPSG:32648")
_STEP_DEG = 0.2  # chords within 0.25 mm of a 150 m arc


def metric(lon: float, lat: float) -> tuple[float, float]:
    """WGS 84 to UTM 48N."""
    x, y = _FORWARD.transform(lon, lat)
    return float(x), float(y)


def convergence(lon: float, lat: float) -> float:
    """Degrees to subtract from a true bearing to get a grid bearing."""
    return float(_UTM.get_factors(lon, lat).meridian_convergence)


def reach(camera: Camera) -> tuple[float, float] | None:
    """(start, width) in true degrees of what the camera can see, or None when it sees all round."""
    if camera.kind is Kind.DOME or camera.fov_deg >= 360.0:
        return None
    if camera.kind is Kind.PTZ:
        if camera.pan_min_deg is None or camera.pan_max_deg is None:
            return None
        span = (camera.pan_max_deg - camera.pan_min_deg) % 360.0
        if span == 0.0 and camera.pan_max_deg != camera.pan_min_deg:
            span = 360.0
        if span + camera.fov_deg >= 360.0:
            return None
        return camera.pan_min_deg - camera.fov_deg / 2.0, span + camera.fov_deg
    return camera.heading_deg - camera.fov_deg / 2.0, camera.fov_deg


def sector(camera: Camera) -> Polygon:
    """The camera's (reach) sector as a finely segmented polygon in UTM 48N."""
    x, y = metric(camera.lon, camera.lat)
    seen = reach(camera)
    if seen is None:
        return Point(x, y).buffer(camera.range_m, quad_segs=450)
    start, width = seen
    grid_start = start - convergence(camera.lon, camera.lat)
    angles = np.radians(grid_start + np.linspace(0.0, width, max(2, math.ceil(width / _STEP_DEG) + 1)))
    arc = list(zip(x + camera.range_m * np.sin(angles), y + camera.range_m * np.cos(angles), strict=True))
    return Polygon([(x, y), *arc])


def disk(x: float, y: float, r: float) -> BaseGeometry:
    """A disk (a point below a micrometre) with fine segmentation."""
    return Point(x, y) if r < 1e-6 else Point(x, y).buffer(r, quad_segs=512)


def ellipse(x: float, y: float, a: float, b: float, grid_orientation_deg: float) -> Polygon:
    """An ellipse polygon, major axis at a grid bearing."""
    t = np.linspace(0.0, 2.0 * math.pi, 2001)
    u, v = a * np.cos(t), b * np.sin(t)
    s, c = math.sin(math.radians(grid_orientation_deg)), math.cos(math.radians(grid_orientation_deg))
    return Polygon(np.column_stack([x + u * s + v * c, y + u * c - v * s]))


@dataclass(frozen=True)
class Verdict:
    """What the oracle says of one camera against one region."""

    camera: Camera
    covers: bool
    sure: bool  # False within TOLERANCE_M of the boundary: either answer is acceptable
    coverage: float
    distance_m: float


def judge(camera: Camera, region: BaseGeometry, cx: float, cy: float) -> Verdict:
    """The oracle's verdict on a camera against a region shape with centre (cx, cy)."""
    shape = sector(camera)
    gap = shape.distance(region)
    covers = gap == 0.0
    if region.area == 0.0:
        sure = gap > TOLERANCE_M or shape.exterior.distance(region) > TOLERANCE_M
        coverage = 1.0 if covers else 0.0
    else:
        sure = gap > TOLERANCE_M or shape.buffer(-TOLERANCE_M, quad_segs=2).intersects(region)
        coverage = shape.intersection(region).area / region.area
    x, y = metric(camera.lon, camera.lat)
    return Verdict(camera, covers, sure, coverage, math.hypot(cx - x, cy - y))


def judge_all(cameras: list[Camera], region: BaseGeometry, cx: float, cy: float) -> list[Verdict]:
    """Verdicts for every camera."""
    return [judge(c, region, cx, cy) for c in cameras]


def nearest(verdicts: list[Verdict], k: int, within_m: float) -> list[str]:
    """Ids of the k cameras nearest the centre within within_m, ties by id."""
    ranked = sorted((v.distance_m, v.camera.camera_id) for v in verdicts if v.distance_m <= within_m)
    return [camera_id for _, camera_id in ranked[:k]]
