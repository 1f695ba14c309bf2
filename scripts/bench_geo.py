"""Benchmark of geo/: match latency on a 37k and a 1M synthetic city, index build, and baselines.

Run: .venv/bin/python scripts/bench_geo.py [--quick] [--dsn DSN]
Prints a table and writes bench-results/geo.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.camera import Camera, Kind
from geo.crs import Projector
from geo.index import CameraIndex
from geo.region import Region, circle, normalise
from geo.sector import sector_polygons, sector_ring, view_columns

CENTRE = (10.78, 106.69)  # lat, lon of the dense core (District 1 / 3, Ho Chi Minh City)
CORE_SIDE_M = 12_000.0
OUTER_RADIUS_M = 40_000.0
OUT = Path(__file__).resolve().parents[1] / "bench-results" / "geo.json"


@dataclass(frozen=True)
class CityShape:
    """How many cameras, over how much ground."""

    name: str
    core: int
    outer: int
    scale: float  # linear scale of the core square and the outer disk


CITY_37K = CityShape("37k", 33_000, 4_000, 1.0)
CITY_1M = CityShape("1M", 33_000 * 27, 1_000_000 - 33_000 * 27, math.sqrt(27.0))  # same density, 27x the area


def rss_mb() -> float:
    """Resident set size of this process now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _scatter(rng: np.random.Generator, core: int, outer: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Metric offsets from the centre: a uniform dense square, then a sparse disk around it."""
    half = CORE_SIDE_M * scale / 2.0
    cx = rng.uniform(-half, half, core)
    cy = rng.uniform(-half, half, core)
    radius = np.sqrt(rng.uniform(half**2, (OUTER_RADIUS_M * scale) ** 2, outer))
    angle = rng.uniform(0.0, 2.0 * math.pi, outer)
    return np.r_[cx, radius * np.sin(angle)], np.r_[cy, radius * np.cos(angle)]


def _camera(i: int, lat: float, lon: float, rng: np.random.Generator) -> Camera:
    draw = rng.random()
    common = {"camera_id": f"HCM-{i:07d}", "lat": lat, "lon": lon, "height_m": float(rng.uniform(3, 12)),
              "range_m": float(rng.uniform(30, 150)), "online": bool(rng.random() < 0.95),
              "quality": "hd", "connected": True}
    if draw < 0.006:  # a few hundred PTZ in 37k, some with limits wrapping through north
        lo = float(rng.uniform(0, 360))
        high = float((lo + rng.uniform(30, 270)) % 360)
        limits = {} if draw < 0.002 else {"pan_min_deg": lo, "pan_max_deg": high}
        return Camera(**common, kind=Kind.PTZ, heading_deg=lo, fov_deg=float(rng.uniform(40, 70)), **limits)
    if draw < 0.010:
        return Camera(**common, kind=Kind.DOME, fov_deg=360.0)
    return Camera(**common, heading_deg=float(rng.uniform(0, 360)), fov_deg=float(rng.uniform(40, 110)))


def make_city(shape: CityShape, projector: Projector, seed: int = 7) -> list[Camera]:
    """A deterministic synthetic city of the given shape."""
    rng = np.random.default_rng(seed)
    x0, y0 = projector.to_metric(CENTRE[1], CENTRE[0])
    dx, dy = _scatter(rng, shape.core, shape.outer, shape.scale)
    lons, lats = projector.to_wgs84_many(x0 + dx, y0 + dy)
    return [_camera(i, float(la), float(lo), rng) for i, (lo, la) in enumerate(zip(lons, lats, strict=True))]


def make_callers(n: int, projector: Projector, scale: float, seed: int = 11) -> list[Region]:
    """Caller regions: 90% in the core; AML-like 68% radii 5-200 m (log-uniform), normalised to 95%."""
    rng = np.random.default_rng(seed)
    x0, y0 = projector.to_metric(CENTRE[1], CENTRE[0])
    core = int(n * 0.9)
    dx, dy = _scatter(rng, core, n - core, scale)
    lons, lats = projector.to_wgs84_many(x0 + dx, y0 + dy)
    radii = np.exp(rng.uniform(math.log(5.0), math.log(200.0), n))
    return [normalise(circle(projector, float(la), float(lo), float(r), 0.68))
            for lo, la, r in zip(lons, lats, radii, strict=True)]


def percentiles_us(samples: Sequence[float]) -> dict[str, float]:
    """p50/p99/mean of durations given in seconds, in microseconds."""
    a = np.asarray(samples) * 1e6
    return {"p50_us": round(float(np.percentile(a, 50)), 1), "p99_us": round(float(np.percentile(a, 99)), 1),
            "mean_us": round(float(a.mean()), 1)}


def time_each(fn: Callable[[Region], object], callers: Sequence[Region], rounds: int = 1) -> list[float]:
    """Wall time of fn on each caller after a short warm-up; with rounds > 1, each caller's fastest."""
    for region in callers[:200]:
        fn(region)
    clock = time.perf_counter
    best = [math.inf] * len(callers)
    for _ in range(rounds):  # whole passes, so that a caller's repeats are 10,000 queries apart (cold)
        for i, region in enumerate(callers):
            start = clock()
            fn(region)
            best[i] = min(best[i], clock() - start)
    return best


def bench_index(
    cameras: list[Camera], callers: list[Region], projector: Projector
) -> tuple[CameraIndex, dict[str, Any]]:
    """Index build and the latency of match, covering and nearby."""
    gc.collect()
    before = rss_mb()
    index = CameraIndex(projector)
    start = time.perf_counter()
    index.load(cameras)
    build_s = time.perf_counter() - start
    after = rss_mb()
    gc.disable()  # keep collector pauses out of the latency figures
    try:
        result = {
            "cameras": len(index), "callers": len(callers), "build_s": round(build_s, 2),
            "rss_after_load_mb": round(after, 0), "rss_index_mb": round(after - before, 0),
            "match": percentiles_us(time_each(index.match, callers)),
            # On a shared machine other processes preempt some calls: each caller's best of three passes.
            "match_best_of_3": percentiles_us(time_each(index.match, callers, rounds=3)),
            "covering": percentiles_us(time_each(index.covering, callers)),
            "nearby": percentiles_us(time_each(lambda r: index.nearby(r.x, r.y), callers)),
            "matched_per_call": round(float(np.mean([len(index.match(r)) for r in callers[:1000]])), 1),
            "covering_per_call": round(float(np.mean([len(index.covering(r)) for r in callers[:1000]])), 1),
        }
    finally:
        gc.enable()
    return index, result


def bench_strtree(cameras: list[Camera], callers: list[Region], index: CameraIndex,
                  projector: Projector) -> dict[str, Any]:
    """Baseline: shapely STRtree over the sector polygons, intersects with the region polygon (sets only)."""
    rows = view_columns(cameras, projector)
    start = time.perf_counter()
    tree = shapely.STRtree(sector_polygons(rows))
    build_s = time.perf_counter() - start
    times = time_each(lambda r: tree.query(r.geometry, predicate="intersects"), callers)
    agree = sum(
        {cameras[i].camera_id for i in tree.query(r.geometry, predicate="intersects")}
        == {m.camera.camera_id for m in index.covering(r)}
        for r in callers[:1000]
    )
    return {"build_s": round(build_s, 2), "covering": percentiles_us(times), "same_set_of_1000": agree}


def bench_postgis(dsn: str, cameras: list[Camera], callers: list[Region], index: CameraIndex,
                  projector: Projector) -> dict[str, Any]:
    """PostGIS on projected geometry with GiST: KNN k=10 and ST_DWithin(sector, point, r) per caller."""
    import psycopg  # imported here: only this comparison needs a database driver

    rows = view_columns(cameras, projector)
    srid = projector.srid
    sample = callers[:1000]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute(f"CREATE TEMP TABLE bench_cam (camera_id text, pt geometry(Point, {srid}),"
                     f" sector geometry(Polygon, {srid}))")
        with conn.cursor().copy("COPY bench_cam (camera_id, pt, sector) FROM STDIN") as copy:
            for camera, row in zip(cameras, rows, strict=True):
                point = shapely.to_wkb(shapely.points(row[0], row[1]), hex=True, include_srid=False)
                sector = shapely.to_wkb(shapely.polygons(sector_ring(row)), hex=True)
                copy.write_row((camera.camera_id, f"SRID={srid};{point}", f"SRID={srid};{sector}"))
        conn.execute("CREATE INDEX ON bench_cam USING gist (pt)")
        conn.execute("CREATE INDEX ON bench_cam USING gist (sector)")
        conn.execute("ANALYZE bench_cam")
        point_sql = f"ST_SetSRID(ST_Point(%s, %s), {srid})"
        knn = f"SELECT camera_id FROM bench_cam ORDER BY pt <-> {point_sql} LIMIT 10"
        within = f"SELECT camera_id FROM bench_cam WHERE ST_DWithin(sector, {point_sql}, %s)"
        cur = conn.cursor()

        def run(sql: str, region: Region, extra: tuple[float, ...] = ()) -> set[str]:
            cur.execute(sql, (region.x, region.y, *extra), prepare=True)
            return {r[0] for r in cur.fetchall()}

        knn_t = time_each(lambda r: run(knn, r), sample)
        dwithin_t = time_each(lambda r: run(within, r, (r.radius_m or 0.0,)), sample)
        agree = sum(run(within, r, (r.radius_m or 0.0,)) == {m.camera.camera_id for m in index.covering(r)}
                    for r in sample)
        agree_knn = sum(run(knn, r) == {m.camera.camera_id for m in index.nearby(r.x, r.y, 10, 1e9)}
                        for r in sample)
    return {"knn10": percentiles_us(knn_t), "dwithin_covering": percentiles_us(dwithin_t),
            "same_covering_set": f"{agree}/{len(sample)}", "same_knn10_set": f"{agree_knn}/{len(sample)}"}


def _row(name: str, r: dict[str, Any]) -> str:
    m, b, c, n = r["match"], r["match_best_of_3"], r["covering"], r["nearby"]
    return (f"{name:>4} {r['cameras']:>9,} {r['build_s']:>7.2f} {r['rss_after_load_mb']:>8.0f} "
            f"{m['p50_us']:>8.1f} {m['p99_us']:>8.1f} {b['p50_us']:>8.1f} {b['p99_us']:>8.1f}"
            f" {c['p50_us']:>8.1f} {n['p50_us']:>8.1f} {r['matched_per_call']:>6.1f}")


def main() -> None:
    """Runs the benchmark and writes bench-results/geo.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 callers and the 37k city only")
    parser.add_argument("--dsn", help="PostgreSQL+PostGIS to compare against (37k city)")
    args = parser.parse_args()
    projector = Projector()
    n_callers = 2_000 if args.quick else 10_000
    # Other work on the machine shows in the tail latencies: record how busy it was.
    results: dict[str, Any] = {"callers": n_callers, "cpus": os.cpu_count(), "load_before": os.getloadavg()}
    cameras = make_city(CITY_37K, projector)
    callers = make_callers(n_callers, projector, CITY_37K.scale)
    index, results["city_37k"] = bench_index(cameras, callers, projector)
    results["strtree_37k"] = bench_strtree(cameras, callers, index, projector)
    results["strtree_37k"]["ratio_vs_covering_p50"] = round(
        results["strtree_37k"]["covering"]["p50_us"] / results["city_37k"]["covering"]["p50_us"], 2)
    if args.dsn:
        results["postgis_37k"] = bench_postgis(args.dsn, cameras, callers, index, projector)
    if not args.quick:
        del index, cameras
        gc.collect()
        big = make_city(CITY_1M, projector)
        results["rss_1m_cameras_mb"] = round(rss_mb(), 0)
        _, results["city_1m"] = bench_index(big, make_callers(n_callers, projector, CITY_1M.scale), projector)
    results["load_after"] = os.getloadavg()
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'city':>4} {'cameras':>9} {'build_s':>7} {'rss_mb':>8} {'p50_us':>8} {'p99_us':>8}"
          f" {'best_p50':>8} {'best_p99':>8} {'cov_p50':>8} {'near_p50':>8} {'found':>6}")
    for key in ("city_37k", "city_1m"):
        if key in results:
            print(_row(key.split("_")[1], results[key]))
    s = results["strtree_37k"]
    print(f"shapely STRtree baseline (37k, intersecting set only: no coverage, no ranking):"
          f" p50 {s['covering']['p50_us']} us, p99 {s['covering']['p99_us']} us,"
          f" {s['ratio_vs_covering_p50']}x the index's full covering p50;"
          f" same sets {s['same_set_of_1000']}/1000")
    if "postgis_37k" in results:
        print(f"PostGIS (37k): {json.dumps(results['postgis_37k'])}")
    print(f"load average before/after: {results['load_before'][0]:.2f} / {results['load_after'][0]:.2f}"
          f" on {results['cpus']} CPUs; written {OUT}")


if __name__ == "__main__":
    main()
