"""The caller's uncertainty region in metric coordinates: circle, ellipse or polygon (arc bands too)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import shapely
from shapely.geometry import Polygon

from geo.crs import Projector, check_finite, check_lonlat
from geo.errors import GeoError
from geo.sector import TAU, arc_segments, arc_xy

RegionKind = Literal["circle", "ellipse", "polygon"]
_MIN_WIDTH_M = 0.01


@dataclass(frozen=True)
class Region:
    """An uncertainty region: metric centre, exact shape, and the probability the caller is inside."""

    kind: RegionKind
    x: float
    y: float
    confidence: float
    radius_m: float | None = None
    semi_major_m: float | None = None
    semi_minor_m: float | None = None
    orientation_deg: float | None = None  # of the major axis, clockwise from true north, 0..180
    inner_m: float = 0.0  # a disk of this radius about (x, y) lies inside the region
    outer_m: float = 0.0  # a disk of this radius about (x, y) holds the region
    convergence_deg: float = 0.0  # meridian convergence at the centre (grid bearing = true - this)
    shape: Polygon | None = field(default=None, repr=False)  # polygons; circles and ellipses need none

    @cached_property
    def geometry(self) -> Polygon:
        """The exact shape as a metric polygon, arcs as chords within 1 mm; built on first use."""
        # Matching circles never needs it: building it for every call would cost more than matching.
        if self.shape is not None:
            return self.shape
        if self.kind == "ellipse":
            return _ellipse_outline(self)
        return _disk(self.x, self.y, self.radius_m or 0.0)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in the metric CRS."""
        if self.shape is not None:
            minx, miny, maxx, maxy = self.shape.bounds
            return float(minx), float(miny), float(maxx), float(maxy)
        r = self.outer_m
        return self.x - r, self.y - r, self.x + r, self.y + r


def _check_confidence(confidence: float) -> None:
    # Below about 1e-16, 1 - confidence rounds to 1: normalising would divide by a zero-sized circle.
    if not (math.isfinite(confidence) and 0.0 < confidence < 1.0 and 1.0 - confidence < 1.0):
        raise GeoError("confidence", f"{confidence} is not a probability strictly between 0 and 1")


def _check_length(field: str, value: float) -> None:
    if not math.isfinite(value) or value < 0.0:
        raise GeoError(field, f"{value} is not a non-negative finite length in metres")


def _disk(x: float, y: float, radius_m: float) -> Polygon:
    if radius_m <= 0.0:
        return Polygon()
    xs, ys = arc_xy(x, y, radius_m, 0.0, TAU)
    return Polygon(np.column_stack([xs, ys]))


def _circle_region(x: float, y: float, radius_m: float, confidence: float) -> Region:
    return Region("circle", x, y, confidence, radius_m=radius_m, inner_m=radius_m, outer_m=radius_m)


def circle(p: Projector, lat: float, lon: float, radius_m: float, confidence: float) -> Region:
    """A disk of radius_m metres about (lat, lon) holding the caller with this confidence."""
    _check_length("radius_m", radius_m)
    _check_confidence(confidence)
    x, y = p.to_metric(lon, lat)
    return _circle_region(x, y, radius_m, confidence)


def _ellipse_outline(r: Region) -> Polygon:
    a, b = r.semi_major_m or 0.0, r.semi_minor_m or 0.0
    if a <= 0.0:
        return Polygon()
    # Parametric outline in the (major, minor) frame, turned onto the grid bearing of the major axis.
    t = np.linspace(0.0, TAU, arc_segments(a, TAU) + 1)
    u, v = a * np.cos(t), b * np.sin(t)
    psi = math.radians((r.orientation_deg or 0.0) - r.convergence_deg)
    s, c = math.sin(psi), math.cos(psi)
    return Polygon(np.column_stack([r.x + u * s + v * c, r.y + u * c - v * s]))


def _ellipse_region(
    x: float, y: float, axes: tuple[float, float], orientation_deg: float, confidence: float, conv: float
) -> Region:
    a, b = axes
    return Region(
        "ellipse",
        x,
        y,
        confidence,
        semi_major_m=a,
        semi_minor_m=b,
        orientation_deg=orientation_deg,
        inner_m=b,
        outer_m=a,
        convergence_deg=conv,
    )


def ellipse(
    p: Projector,
    lat: float,
    lon: float,
    semi_major_m: float,
    semi_minor_m: float,
    orientation_deg: float,
    confidence: float,
) -> Region:
    """An ellipse about (lat, lon); orientation is the major axis, clockwise from true north."""
    _check_length("semi_major_m", semi_major_m)
    _check_length("semi_minor_m", semi_minor_m)
    check_finite("orientation_deg", orientation_deg)
    _check_confidence(confidence)
    if semi_minor_m > semi_major_m:  # PIDF-LO senders do not always order the axes
        semi_major_m, semi_minor_m, orientation_deg = semi_minor_m, semi_major_m, orientation_deg + 90.0
    if semi_minor_m == 0.0 and semi_major_m > 0.0:
        raise GeoError("semi_minor_m", "must be positive when semi_major_m is (an ellipse, not a line)")
    x, y = p.to_metric(lon, lat)
    conv = p.convergence_deg(lon, lat)
    return _ellipse_region(x, y, (semi_major_m, semi_minor_m), orientation_deg % 180.0, confidence, conv)


def _polygon_region(geometry: Polygon, confidence: float, conv: float) -> Region:
    if not geometry.is_valid:
        raise GeoError("vertices", f"not a simple polygon: {shapely.is_valid_reason(geometry)}")
    # Points in a line are not exactly in line once projected: what matters is a width worth the name.
    if geometry.area < _MIN_WIDTH_M * geometry.length:
        raise GeoError("vertices", "the polygon has no area (its vertices are in a line)")
    geometry = shapely.orient_polygons(geometry)  # counter-clockwise exterior, as RFC 7946 asks
    centre = geometry.centroid
    ring = np.asarray(geometry.exterior.coords)
    outer = float(np.hypot(ring[:, 0] - centre.x, ring[:, 1] - centre.y).max())
    inner = float(geometry.boundary.distance(centre)) if geometry.contains(centre) else 0.0
    return Region(
        "polygon",
        float(centre.x),
        float(centre.y),
        confidence,
        inner_m=inner,
        outer_m=outer,
        convergence_deg=conv,
        shape=geometry,
    )


def polygon(p: Projector, vertices: Sequence[tuple[float, float]], confidence: float) -> Region:
    """A simple polygon from (lat, lon) vertices; a closing repeat of the first vertex is optional."""
    _check_confidence(confidence)
    points = [(float(lat), float(lon)) for lat, lon in vertices]
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    if len(set(points)) < 3:
        raise GeoError("vertices", "a polygon needs at least 3 distinct vertices")
    for lat, lon in points:
        check_lonlat(lon, lat)
    lats, lons = np.array(points).T
    xs, ys = p.to_metric_many(lons, lats)
    conv = p.convergence_deg(float(lons.mean()), float(lats.mean()))
    return _polygon_region(Polygon(np.column_stack([xs, ys])), confidence, conv)


def _check_arcband(inner_m: float, outer_m: float, start_deg: float, opening_deg: float) -> None:
    _check_length("inner_m", inner_m)
    _check_length("outer_m", outer_m)
    check_finite("start_deg", start_deg)
    if outer_m <= inner_m:
        raise GeoError("outer_m", f"{outer_m} must exceed inner_m {inner_m}")
    if not (math.isfinite(opening_deg) and 0.0 < opening_deg <= 360.0):
        raise GeoError("opening_deg", f"{opening_deg} is outside (0, 360]")


def arcband(
    p: Projector,
    lat: float,
    lon: float,
    inner_m: float,
    outer_m: float,
    start_deg: float,
    opening_deg: float,
    confidence: float,
) -> Region:
    """An RFC 5491 arc band about (lat, lon), angles clockwise from true north; becomes a polygon."""
    _check_arcband(inner_m, outer_m, start_deg, opening_deg)
    _check_confidence(confidence)
    x, y = p.to_metric(lon, lat)
    conv = p.convergence_deg(lon, lat)
    start, sweep = math.radians(start_deg - conv), math.radians(opening_deg)
    ox, oy = arc_xy(x, y, outer_m, start, sweep)
    if opening_deg >= 360.0:
        hole = [] if inner_m == 0.0 else [np.column_stack(arc_xy(x, y, inner_m, 0.0, TAU))]
        shape = Polygon(np.column_stack([ox, oy]), hole)
    elif inner_m == 0.0:
        shape = Polygon(np.column_stack([np.r_[x, ox], np.r_[y, oy]]))
    else:
        ix, iy = arc_xy(x, y, inner_m, start, sweep)
        shape = Polygon(np.column_stack([np.r_[ox, ix[::-1]], np.r_[oy, iy[::-1]]]))
    return _polygon_region(shape, confidence, conv)


def _sigma_multiple(confidence: float) -> float:
    # Radius, in standard deviations, of the circular-normal disk holding the caller with this probability.
    return math.sqrt(-2.0 * math.log(1.0 - confidence))


def normalise(r: Region, target: float = 0.95, min_uncertainty_m: float = 10.0) -> Region:
    """Rescales a circle or ellipse to the target confidence (circular normal error); polygons unchanged."""
    _check_confidence(target)
    _check_length("min_uncertainty_m", min_uncertainty_m)
    if r.kind == "polygon":
        return r
    scale = _sigma_multiple(target) / _sigma_multiple(r.confidence)
    if r.kind == "circle" and r.radius_m:
        return _circle_region(r.x, r.y, r.radius_m * scale, target)
    if r.kind == "ellipse" and r.semi_major_m and r.semi_minor_m:
        axes = (r.semi_major_m * scale, r.semi_minor_m * scale)
        return _ellipse_region(r.x, r.y, axes, r.orientation_deg or 0.0, target, r.convergence_deg)
    # A point with no uncertainty: the configured minimum, already at the target confidence.
    return _circle_region(r.x, r.y, min_uncertainty_m, target)


def _ring_lonlat(ring: shapely.LinearRing, p: Projector) -> list[list[float]]:
    xy = np.asarray(ring.coords)
    lons, lats = p.to_wgs84_many(xy[:, 0], xy[:, 1])
    return [[round(float(lo), 6), round(float(la), 6)] for lo, la in zip(lons, lats, strict=True)]


def region_json(r: Region, p: Projector) -> dict[str, object]:
    """The region as the API shows it: WGS 84 centre, sizes in metres, GeoJSON ring for polygons."""
    lon, lat = p.to_wgs84(r.x, r.y)
    out: dict[str, object] = {"type": r.kind, "lat": round(lat, 6), "lon": round(lon, 6)}
    if r.kind == "circle":
        out["radius_m"] = round(float(r.radius_m or 0.0), 1)
    elif r.kind == "ellipse":
        out["semi_major_m"] = round(float(r.semi_major_m or 0.0), 1)
        out["semi_minor_m"] = round(float(r.semi_minor_m or 0.0), 1)
        out["orientation_deg"] = round(float(r.orientation_deg or 0.0), 1)
    else:
        out["coordinates"] = _ring_lonlat(r.geometry.exterior, p)
    out["confidence"] = round(r.confidence, 4)
    return out
