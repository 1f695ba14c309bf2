"""The load the scenarios send: calls in the seeded box, and the cameras seeded there (or the demo city)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import urllib.request
from pathlib import Path

import psycopg

from chaos_suite.common import BOX, Service, signed


def call_body(
    call_id: str, rng: random.Random, hotline: str = "113", near: tuple[float, float] | None = None
) -> bytes:
    """A call with a GNSS fix somewhere in the seeded box, or within about 100 m of a (lat, lon)."""
    if near is None:
        south, west, north, east = BOX
        lat, lon = rng.uniform(south, north), rng.uniform(west, east)
    else:
        lat, lon = near[0] + rng.uniform(-9e-4, 9e-4), near[1] + rng.uniform(-9e-4, 9e-4)
    location = {
        "lat": round(lat, 6),
        "lon": round(lon, 6),
        "uncertainty_m": round(rng.uniform(5, 80), 1),
        "confidence": 0.68,
        "source": "gnss",
    }
    body = {
        "call_id": call_id,
        "hotline": hotline,
        "received_at": "2026-11-26T20:15:03+07:00",
        "caller": {"number": f"+8490{rng.randrange(10**7):07d}"},
        "location": location,
    }
    return json.dumps(body).encode()


def camera_ids(count: int) -> list[str]:
    """The ids seed_cameras gives."""
    return [f"CHAOS-{n:05d}" for n in range(count)]


def seed_cameras(service: Service, count: int, seed: int = 8) -> None:
    """Imports `count` cameras spread over the box, through the signed import endpoint."""
    rng = random.Random(seed)
    south, west, north, east = BOX
    features = []
    for camera_id in camera_ids(count):
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        properties = {
            "camera_id": camera_id,
            "heading_deg": rng.uniform(0, 359),
            "fov_deg": rng.choice([60, 90, 360]),
            "range_m": rng.uniform(40, 150),
            "quality": "hd",
            "connected": True,
            "area": f"Phuong {int((lat - south) * 100)}",
        }
        geometry = {"type": "Point", "coordinates": [lon, lat]}
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    request = urllib.request.Request(
        service.url + "/v1/cameras/import", data=body, headers=signed(body), method="POST"
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        answer = json.loads(response.read())
    if answer["rejected"]:
        raise RuntimeError(f"seeding rejected cameras: {answer['rejected'][:3]}")


def load_demo_city(db_url: str) -> tuple[list[tuple[float, float]], list[str]]:
    """Loads the 37,000-camera demo city; returns every camera's (lat, lon) and the connected (AI) cameras."""
    env = {**os.environ, "CALLSIGHT_DATABASE_URL": db_url}
    cli = Path(sys.executable).parent / "callsight"
    subprocess.run([str(cli), "demo-city"], env=env, check=True, stdout=subprocess.DEVNULL)
    with psycopg.connect(db_url) as conn:
        places = [(float(lat), float(lon)) for lat, lon in conn.execute("SELECT lat, lon FROM cameras")]
        ai = [str(r[0]) for r in conn.execute("SELECT camera_id FROM cameras WHERE connected ORDER BY 1")]
    return places, ai
