"""Which sectors meet a region, and what share of the region each sees: vectorised over candidate cameras."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import shapely

from geo.crs import FloatArray
from geo.region import Region
from geo.sector import TAU, Col, sector_polygons

BoolArray = npt.NDArray[np.bool_]
Table = npt.NDArray[np.float64]

# Disk coverage integrates along rays from the camera: the radial integral is exact, the angular one uses
# the midpoint rule on each piece of (wedge ∩ rays that hit the disk). 16 nodes a piece keep the error
# under 0.007 of the exact area share (measured against shapely over thousands of random cases).
_RAY_NODES = (np.arange(16) + 0.5) / 16.0
_RAY_WEIGHTS = np.full(16, 1.0 / 16.0)
_TURNS = np.array([0.0, TAU, -TAU])
_SLACK_M = 1e-6
_ENCLOSED_ABOVE = 48  # candidates; below this, testing for sectors wholly inside a disk does not pay
# Ellipses use a fixed sunflower of 512 points in the unit disk, mapped onto the ellipse (error < 0.013).
_SAMPLES = 512
_GOLDEN = math.pi * (3.0 - math.sqrt(5.0))
_UNIT_R = np.sqrt((np.arange(_SAMPLES) + 0.5) / _SAMPLES)
_UNIT_U = _UNIT_R * np.cos(np.arange(_SAMPLES) * _GOLDEN)  # along the major axis
_UNIT_V = _UNIT_R * np.sin(np.arange(_SAMPLES) * _GOLDEN)  # along the minor axis


class Relation(NamedTuple):
    """A point relative to each row's sector."""

    d: FloatArray  # distance from the apex
    toward: FloatArray  # grid bearing from the apex to the point, radians
    turn: FloatArray  # that bearing measured clockwise from the wedge's start, 0..TAU
    inside: BoolArray  # within the wedge's angle (at any distance)


def relate(rows: Table, cx: float, cy: float) -> Relation:
    """Where (cx, cy) lies relative to each row's apex and wedge."""
    dx = cx - rows[:, Col.X]
    dy = cy - rows[:, Col.Y]
    toward = np.arctan2(dx, dy)
    turn = (toward - rows[:, Col.START]) % TAU
    return Relation(np.hypot(dx, dy), toward, turn, turn <= rows[:, Col.WIDTH])


def _edge2(rows: Table, rel: Relation) -> FloatArray:
    """Squared distance to the nearer straight edge (a segment from the apex) of points outside the wedge."""
    # Outside the wedge the edge at the smaller angle is the nearer one. With v.u = d cos(angle) and t that
    # projection clamped onto the segment, |v - t u|^2 = d2 - t (2 v.u - t).
    angle = np.minimum(rel.turn - rows[:, Col.WIDTH], TAU - rel.turn)
    along = rel.d * np.cos(angle)
    t = np.minimum(np.maximum(along, 0.0), rows[:, Col.RANGE])
    return rel.d * rel.d - t * (2.0 * along - t)


def _distance(rows: Table, rel: Relation) -> FloatArray:
    beyond = np.maximum(rel.d - rows[:, Col.RANGE], 0.0)
    return np.where(rel.inside, beyond, np.sqrt(np.maximum(_edge2(rows, rel), 0.0)))


def distance_to_sectors(rows: Table, cx: float, cy: float) -> FloatArray:
    """Exact distance from (cx, cy) to each row's sector (0 inside)."""
    return _distance(rows, relate(rows, cx, cy))


def _covers(rows: Table, rel: Relation, r: float) -> BoolArray:
    # Inside the wedge's angle the nearest sector point is along the same ray; outside, on an edge.
    # A micrometre of slack keeps points exactly on an edge or the arc inside despite rounding.
    r += _SLACK_M
    return np.where(rel.inside, rel.d <= rows[:, Col.RANGE] + r, _edge2(rows, rel) <= r * r)


def _disk_share(
    d: FloatArray, turn: FloatArray, width: FloatArray, reach: FloatArray, r: float
) -> FloatArray:
    """Share of the disk (r > 0) inside sectors: its centre d from the apex, turn into the wedge."""
    half = np.where(d > r, np.arcsin(r / np.maximum(d, r)), math.pi)  # rays hitting the disk span ±half
    lo, span = _pieces(turn, width, half)
    k = span.nonzero()[0]  # at most two of a camera's three pieces are not empty: integrate only those
    owner = k // 3
    swept = _swept(d.take(owner), reach.take(owner), lo.take(k), span.take(k), r)
    share = np.bincount(owner, swept, len(d)) * (0.5 / (math.pi * r * r))
    # A disk wholly inside the sector is exactly 1, so full views tie and rank by distance (the first piece
    # then spans the whole hit range: max/min return -half and half exactly); adding 1 and clamping sets it.
    whole = (d + r <= reach) & ((span[::3] >= 2.0 * half) | (width >= TAU))
    return np.asarray(np.minimum(share + whole, 1.0))


def _pieces(turn: FloatArray, width: FloatArray, half: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Start and length of the three pieces of each wedge within the hit range ±half, one after another."""
    # Angles are relative to the bearing of the disk's centre. The wedge starts at -turn, and is taken three
    # times (shifted by 0, +1 and -1 turn) so that every part of it that meets [-half, half] is one of three
    # pieces, without branching on where it wraps.
    first = _TURNS - turn[:, None]
    lo = np.maximum(first, -half[:, None])
    span = np.maximum(np.minimum(first + width[:, None], half[:, None]) - lo, 0.0)
    return lo.ravel(), span.ravel()


def _swept(d: FloatArray, reach: FloatArray, lo: FloatArray, span: FloatArray, r: float) -> FloatArray:
    """Twice the area inside both the disk and the range that each piece's rays sweep (midpoint rule)."""
    # float32 angles are ample for a share good to 0.001 and make the trigonometry four times faster.
    psi = (lo[:, None] + span[:, None] * _RAY_NODES).astype(np.float32)
    d, reach = d[:, None], reach[:, None]
    along, across = d * np.cos(psi), d * np.sin(psi)
    half_chord = np.sqrt(np.maximum(r * r - across * across, 0.0))
    far = np.minimum(along + half_chord, reach)
    near = np.minimum(np.maximum(along - half_chord, 0.0), reach)
    return np.asarray((far * far - near * near) @ _RAY_WEIGHTS * span)


def points_inside(rows: Table, px: FloatArray, py: FloatArray) -> BoolArray:
    """(rows, points) matrix: whether each point lies in each row's sector."""
    dx = px[None, :] - rows[:, Col.X, None]
    dy = py[None, :] - rows[:, Col.Y, None]
    reach = rows[:, Col.RANGE, None]
    near = dx * dx + dy * dy <= reach * reach
    after_start = dx * rows[:, Col.COS_S, None] - dy * rows[:, Col.SIN_S, None] >= 0.0
    before_end = dy * rows[:, Col.SIN_E, None] - dx * rows[:, Col.COS_E, None] >= 0.0
    width = rows[:, Col.WIDTH, None]
    wedge = np.where(width <= math.pi, after_start & before_end, after_start | before_end) | (width >= TAU)
    return np.asarray(near & wedge)


def ellipse_points(region: Region) -> tuple[FloatArray, FloatArray]:
    """The fixed sunflower sample mapped uniformly onto an ellipse region."""
    a, b = region.semi_major_m or 0.0, region.semi_minor_m or 0.0
    psi = math.radians((region.orientation_deg or 0.0) - region.convergence_deg)
    s, c = math.sin(psi), math.cos(psi)
    u, v = a * _UNIT_U, b * _UNIT_V
    return region.x + u * s + v * c, region.y + u * c - v * s


def _exact_covers(rows: Table, region: Region, rel: Relation) -> BoolArray:
    """Exact intersection for ellipses and polygons: cheap distance bounds first, shapely for the rest."""
    dist = _distance(rows, rel)
    covers = dist < region.inner_m  # strict: inner is 0 when the centre is not in the region (a ring's hole)
    unsure = ~covers & (dist <= region.outer_m)
    if unsure.any():
        shapely.prepare(region.geometry)
        covers[unsure] = shapely.intersects(region.geometry, sector_polygons(rows[unsure]))
    return covers


def _shares(rows: Table, region: Region) -> FloatArray:
    """Coverage of covering rows for an ellipse or a polygon."""
    if region.kind == "ellipse":
        px, py = ellipse_points(region)
        return np.asarray(points_inside(rows, px, py).mean(axis=1))
    overlap = shapely.intersection(sector_polygons(rows), region.geometry)
    return np.asarray(np.clip(shapely.area(overlap) / region.geometry.area, 0.0, 1.0))


class Assessment(NamedTuple):
    """Per candidate row: does it meet the region, what share it sees, and where the region's centre is."""

    covers: BoolArray
    coverage: FloatArray
    distance: FloatArray  # grid metres from the camera to the region's centre
    toward: FloatArray  # grid bearing from the camera to the region's centre, radians


def assess_disk(rows: Table, cx: float, cy: float, r: float, rel: Relation | None = None) -> Assessment:
    """Assessment against the closed disk of radius r >= 0 about (cx, cy); r = 0 is a point."""
    rel = relate(rows, cx, cy) if rel is None else rel
    covers = _covers(rows, rel, r)
    if r < _SLACK_M:  # a point, or a disk too small for its area to be worth computing
        return Assessment(covers, covers.astype(np.float64), rel.d, rel.toward)
    return Assessment(covers, _disk_coverage(rows, rel, r, covers), rel.d, rel.toward)


def _disk_coverage(rows: Table, rel: Relation, r: float, covers: BoolArray) -> FloatArray:
    """Shares of the disk seen by the covering rows; 0 for the others."""
    reach, width = rows[:, Col.RANGE], rows[:, Col.WIDTH]
    coverage = np.zeros(len(rows), dtype=np.float64)
    if len(rows) > _ENCLOSED_ABOVE:
        # A sector whose whole range disk lies in the region covers its own area exactly (common when
        # the region is large): only the others need integrating.
        enclosed = rel.d + reach <= r
        coverage[enclosed] = width[enclosed] * reach[enclosed] ** 2 / (TAU * r * r)
        covers = covers & ~enclosed
    at = covers.nonzero()[0]
    if len(at):
        coverage[at] = _disk_share(rel.d.take(at), rel.turn.take(at), width.take(at), reach.take(at), r)
    return coverage


def assess(rows: Table, region: Region, rel: Relation | None = None) -> Assessment:
    """Assessment of candidate rows against a region of any kind; rel relates the region's centre."""
    if region.kind == "circle" or (region.outer_m <= 0.0 and region.kind != "polygon"):
        return assess_disk(rows, region.x, region.y, region.radius_m or 0.0, rel)
    rel = relate(rows, region.x, region.y) if rel is None else rel
    covers = _exact_covers(rows, region, rel)
    coverage = np.zeros(len(rows), dtype=np.float64)
    if covers.any():
        coverage[covers] = _shares(rows[covers], region)
    return Assessment(covers, coverage, rel.d, rel.toward)
