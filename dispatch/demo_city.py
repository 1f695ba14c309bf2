"""A synthetic but plausible Ho Chi Minh City camera registry, its streets and ward outlines, for demos."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from dispatch.demo_map import (
    ARTERIALS,
    M_PER_DEG_LAT,
    M_PER_DEG_LON,
    STREET_NAMES,
    WARDS,
    Ward,
    areas,
    line_feature,
)
from geo.gcpause import paused_gc

__all__ = ["areas", "generate", "streets", "write"]

HD_SHARE = 2_500 / 37_000  # about 2,500 connected HD cameras in the default city
_TIER_WEIGHT = {"core": 10.0, "mid": 4.0, "outer": 1.0}
_TIER_GRID = {"core": (90.0, 160.0, 700.0), "mid": (150.0, 250.0, 1400.0), "outer": (300.0, 600.0, 3000.0)}
ARTERIAL_SHARE = 0.06


@dataclass(frozen=True)
class _Layout:
    """The street grid of every ward (arrays indexed by ward) and the arterial segments."""

    bearing: np.ndarray  # bearing of the ward's first street family, degrees
    spacing: np.ndarray  # metres between parallel streets
    lines: np.ndarray  # K: streets run at offsets -K..K times the spacing
    street_base: np.ndarray  # index of the ward's first street name in STREET_NAMES order (see _street_name)
    segments: np.ndarray  # arterial segments: (lat0, lon0, lat1, lon1, arterial index)


@lru_cache(maxsize=8)
def _layout(seed: int) -> _Layout:
    """Street grids that depend on the seed only, so the cameras and streets() of one seed agree."""
    rng = np.random.default_rng([seed, 1])
    tiers = [ward.tier for ward in WARDS]
    low = np.array([_TIER_GRID[t][0] for t in tiers])
    high = np.array([_TIER_GRID[t][1] for t in tiers])
    extent = np.array([_TIER_GRID[t][2] for t in tiers])
    spacing = rng.uniform(low, high)
    lines = np.minimum(np.floor(extent / spacing), (len(STREET_NAMES) // 2 - 1) // 2).astype(np.int64)
    segments = [
        (a[0], a[1], b[0], b[1], float(i))
        for i, (_, points) in enumerate(ARTERIALS)
        for a, b in itertools.pairwise(points)
    ]
    return _Layout(
        bearing=rng.uniform(-45.0, 45.0, len(WARDS)) % 90.0,
        spacing=spacing,
        lines=lines,
        street_base=rng.integers(0, len(STREET_NAMES), len(WARDS)),
        segments=np.array(segments),
    )


def _street_name(layout: _Layout, ward: Any, family: Any, line: Any) -> Any:
    """Index into STREET_NAMES of street `line` (0..2K) of family 0 or 1 in a ward; distinct within a ward."""
    return (layout.street_base[ward] + family * (2 * layout.lines[ward] + 1) + line) % len(STREET_NAMES)


def _unit(bearing_deg: Any) -> tuple[Any, Any]:
    rad = np.radians(bearing_deg)
    return np.sin(rad), np.cos(rad)  # (east, north) of a bearing clockwise from north


def _grid_cameras(
    rng: np.random.Generator, layout: _Layout, ward: np.ndarray, junction: np.ndarray
) -> dict[str, Any]:
    """Positions on ward streets (junctions for dome/PTZ), the street's bearing and the two street names."""
    n = len(ward)
    family = rng.integers(0, 2, n)
    k, spacing = layout.lines[ward], layout.spacing[ward]
    line = rng.integers(0, 2 * k + 1)
    along = rng.uniform(-k - 0.5, k + 0.5) * spacing
    along = np.where(junction, np.round(along / spacing) * spacing, along)
    cross = np.clip(np.round(along / spacing), -k, k).astype(np.int64) + k
    street_bearing = layout.bearing[ward] + 90.0 * family
    ae, an = _unit(street_bearing)
    pe, pn = _unit(street_bearing + 90.0)
    offset = (line - k) * spacing + rng.normal(0.0, 2.0, n)  # poles stand a little off the centre line
    centre = np.array([(w.lat, w.lon) for w in WARDS])[ward]
    return {
        "lat": centre[:, 0] + (along * an + offset * pn) / M_PER_DEG_LAT,
        "lon": centre[:, 1] + (along * ae + offset * pe) / M_PER_DEG_LON,
        "bearing": street_bearing,
        "street": _street_name(layout, ward, family, line),
        "cross": _street_name(layout, ward, 1 - family, cross),
    }


def _arterial_cameras(rng: np.random.Generator, layout: _Layout, n: int) -> dict[str, Any]:
    """Positions along the arterial roads, chosen in proportion to segment length."""
    seg = layout.segments
    dlat, dlon = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
    length = np.hypot(dlat * M_PER_DEG_LAT, dlon * M_PER_DEG_LON)
    pick = rng.choice(len(seg), n, p=length / length.sum())
    t = rng.uniform(0.0, 1.0, n)
    bearing = np.degrees(np.arctan2(dlon * M_PER_DEG_LON, dlat * M_PER_DEG_LAT))[pick]
    arterial = seg[pick, 4].astype(np.int64)
    return {
        "lat": seg[pick, 0] + t * dlat[pick],
        "lon": seg[pick, 1] + t * dlon[pick],
        "bearing": bearing,
        "street": len(STREET_NAMES) + arterial,  # arterial names follow the street names, see _names
        "cross": rng.integers(0, len(STREET_NAMES), n),
    }


def _nearest_ward(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Index of the nearest ward centre, one ward at a time so that a million cameras stay small in memory."""
    best = np.full(len(lat), np.inf)
    index = np.zeros(len(lat), dtype=np.int64)
    for i, ward in enumerate(WARDS):
        d2 = ((lat - ward.lat) * M_PER_DEG_LAT) ** 2 + ((lon - ward.lon) * M_PER_DEG_LON) ** 2
        closer = d2 < best
        best = np.where(closer, d2, best)
        index[closer] = i
    return index


def _sequence_in_area(area: np.ndarray) -> np.ndarray:
    """1, 2, 3 ... numbering the cameras of each area, for ids like HCM-BENTHANH-00042."""
    order = np.argsort(area, kind="stable")
    counts = np.bincount(area, minlength=len(WARDS))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    seq = np.empty(len(area), dtype=np.int64)
    seq[order] = np.arange(len(area)) - np.repeat(starts, counts) + 1
    return seq


def _kinds(rng: np.random.Generator, n: int) -> np.ndarray:
    """0 fixed, 1 PTZ (about 1 %), 2 dome (about 0.8 %)."""
    r = rng.random(n)
    return np.where(r < 0.010, 1, np.where(r < 0.018, 2, 0))


def _views(rng: np.random.Generator, kind: np.ndarray, bearing: np.ndarray) -> dict[str, np.ndarray]:
    """Heading along the street (either way, a few degrees off), fov, range, height and PTZ pan limits."""
    n = len(kind)
    heading = (bearing + 180.0 * rng.integers(0, 2, n) + rng.normal(0.0, 6.0, n)) % 360.0
    fov = np.where(kind == 2, 360.0, np.where(kind == 1, rng.integers(40, 66, n), rng.integers(40, 111, n)))
    reach = 150.0 - (np.minimum(fov, 110.0) - 40.0) / 70.0 * 110.0 + rng.normal(0.0, 10.0, n)
    range_m = np.where(kind == 2, rng.uniform(30.0, 60.0, n), np.clip(reach, 30.0, 150.0))
    span = rng.uniform(90.0, 300.0, n)
    limited = (kind == 1) & (rng.random(n) < 0.5)
    return {
        "heading": np.round(heading, 1) % 360.0,
        "fov": fov.astype(np.float64),
        "range": np.round(range_m),
        "height": np.round(np.where(kind == 0, rng.uniform(4.0, 9.0, n), rng.uniform(7.0, 12.0, n)), 1),
        "pan_min": np.where(limited, np.round(heading - span / 2.0) % 360.0, np.nan),
        "pan_max": np.where(limited, np.round(heading + span / 2.0) % 360.0, np.nan),
    }


def _hd_mask(rng: np.random.Generator, kind: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Exactly round(n * HD_SHARE) connected HD cameras, favouring PTZ, domes and the core."""
    n = len(kind)
    core = np.array([w.tier == "core" for w in WARDS])[area]
    priority = rng.random(n) - 0.6 * (kind != 0) - 0.1 * core
    mask = np.zeros(n, dtype=bool)
    mask[np.argsort(priority, kind="stable")[: round(n * HD_SHARE)]] = True
    return mask


def generate(cameras: int = 37_000, seed: int = 7) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of cameras with our properties; the same for the same arguments."""
    layout = _layout(seed)
    rng = np.random.default_rng([seed, 2, cameras])
    n_art = round(cameras * ARTERIAL_SHARE)
    weights = np.array([_TIER_WEIGHT[w.tier] for w in WARDS])
    ward = rng.choice(len(WARDS), cameras - n_art, p=weights / weights.sum())
    kind = _kinds(rng, cameras)
    grid = _grid_cameras(rng, layout, ward, kind[: len(ward)] != 0)
    art = _arterial_cameras(rng, layout, n_art)
    cols = {key: np.concatenate([grid[key], art[key]]) for key in grid}
    area = _nearest_ward(cols["lat"], cols["lon"])
    cols |= _views(rng, kind, cols["bearing"])
    cols |= {"kind": kind, "area": area, "seq": _sequence_in_area(area), "hd": _hd_mask(rng, kind, area)}
    cols |= {"offline": rng.random(cameras) < 0.03, "public": rng.random(cameras) < 0.3}
    cols |= {"police": rng.random(cameras) < 0.6}
    with paused_gc():
        return {"type": "FeatureCollection", "features": _features(cols)}


def _names() -> list[str]:
    return list(STREET_NAMES) + [name for name, _ in ARTERIALS]


def _features(cols: dict[str, Any]) -> list[dict[str, Any]]:
    """Columns to features; plain lists first, since numpy scalars are slow to touch one at a time."""
    names, kinds = _names(), ("fixed", "ptz", "dome")
    col = {key: value.tolist() for key, value in cols.items()}
    features = []
    for i in range(len(col["lat"])):
        ward = WARDS[col["area"][i]]
        camera_id = f"HCM-{ward.code}-{col['seq'][i]:05d}"
        hd = col["hd"][i]
        props: dict[str, Any] = {
            "camera_id": camera_id,
            "name": f"{names[col['street'][i]]} / {names[col['cross'][i]]} {col['seq'][i]}",
            "height_m": col["height"][i],
            "heading_deg": col["heading"][i],
            "fov_deg": col["fov"][i],
            "range_m": col["range"][i],
            "kind": kinds[col["kind"][i]],
            "quality": "hd" if hd else "analog",
            "connected": hd,
            "status": "offline" if col["offline"][i] else "online",
            "streams": {"path": camera_id} if hd else {},
            "area": ward.name,
            "owner": _owner(hd, col["police"][i], ward),
            "tags": dict(ward.tags),
            "public": col["public"][i],
        }
        if not math.isnan(col["pan_min"][i]):
            props["pan_min_deg"], props["pan_max_deg"] = col["pan_min"][i], col["pan_max"][i]
        point = [round(col["lon"][i], 7), round(col["lat"][i], 7)]
        geometry = {"type": "Point", "coordinates": point}
        features.append({"type": "Feature", "id": camera_id, "geometry": geometry, "properties": props})
    return features


def _owner(hd: bool, police: bool, ward: Ward) -> str:
    if hd:
        return "Cong an TP.HCM" if police else "So Xay dung TP.HCM"
    return f"UBND {ward.name}"


def streets(seed: int = 7) -> dict[str, Any]:
    """GeoJSON LineStrings of the ward street grids and arterials that generate(seed=seed) puts cameras on."""
    layout = _layout(seed)
    features = []
    for i, ward in enumerate(WARDS):
        k, spacing = int(layout.lines[i]), float(layout.spacing[i])
        half = (k + 0.5) * spacing
        for family in (0, 1):
            ae, an = _unit(layout.bearing[i] + 90.0 * family)
            pe, pn = _unit(layout.bearing[i] + 90.0 * family + 90.0)
            for line in range(2 * k + 1):
                offset = (line - k) * spacing
                ends = [
                    (
                        ward.lon + float(t * ae + offset * pe) / M_PER_DEG_LON,
                        ward.lat + float(t * an + offset * pn) / M_PER_DEG_LAT,
                    )
                    for t in (-half, half)
                ]
                name = STREET_NAMES[int(_street_name(layout, i, family, line))]
                features.append(line_feature(name, "street", ward.name, ends))
    for name, points in ARTERIALS:
        features.append(line_feature(name, "arterial", "", [(lon, lat) for lat, lon in points]))
    return {"type": "FeatureCollection", "features": features}


def write(path: str | Path, cameras: int = 37_000, seed: int = 7) -> int:
    """Write generate(cameras, seed) to a GeoJSON file; returns the number of cameras written."""
    city = generate(cameras, seed)
    Path(path).write_bytes(orjson.dumps(city))
    return len(city["features"])
