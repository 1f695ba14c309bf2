"""Shared steps of the integration tests: seeding cameras, posting signed calls, reading console frames."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from tests.integration.conftest import bearer, signed

Client = TestClient[Any, Any]
# A small known city around Ben Thanh market (UTM 48N metres are ~1.1e5 per degree here).
ORIGIN = (10.7725, 106.6980)
SEED = [
    # id, lat, lon, heading, fov, range, kind, connected
    ("EAST-LOOKING", 10.7725, 106.6975, 90.0, 90.0, 100.0, "fixed", True),
    ("WEST-LOOKING", 10.7725, 106.6970, 270.0, 60.0, 80.0, "fixed", True),
    ("NORTH-DOME", 10.7727, 106.6981, 0.0, 360.0, 40.0, "dome", False),
    ("FAR-AWAY", 10.7800, 106.7100, 0.0, 90.0, 60.0, "fixed", True),
]


def seed_bodies() -> list[tuple[str, dict[str, Any]]]:
    """The known cameras as registry PUT bodies, by camera id."""
    bodies = []
    for camera_id, lat, lon, heading, fov, range_m, kind, connected in SEED:
        body = {
            "lat": lat,
            "lon": lon,
            "heading_deg": heading,
            "fov_deg": fov,
            "range_m": range_m,
            "kind": kind,
            "quality": "hd" if connected else "analog",
            "connected": connected,
            "area": "Phuong Ben Thanh",
            "name": camera_id.title(),
        }
        bodies.append((camera_id, body))
    return bodies


async def seed_cameras(client: Client) -> None:
    """Registers the known cameras through the signed registry API."""
    for camera_id, body in seed_bodies():
        raw = json.dumps(body).encode()
        response = await client.put(f"/v1/cameras/{camera_id}", data=raw, headers=signed(raw))
        assert response.status in (200, 201), await response.text()


def call_body(
    call_id: str,
    hotline: str = "113",
    lat: float = ORIGIN[0],
    lon: float = ORIGIN[1],
    uncertainty_m: float = 10.0,
    number: str = "+84901234567",
) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "hotline": hotline,
        "received_at": "2026-11-26T20:15:03+07:00",
        "caller": {"number": number},
        "location": {
            "lat": lat,
            "lon": lon,
            "uncertainty_m": uncertainty_m,
            "confidence": 0.68,
            "source": "gnss",
        },
    }


async def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    return await client.post(path, data=raw, headers=signed(raw))


async def console(
    client: Client,
    role: str,
    areas: list[str] | None = None,
    name: str | None = None,
    headers: dict[str, str] | None = None,
) -> ClientWebSocketResponse:
    """A console connected over a real WebSocket, past its hello frame."""
    ws = await client.ws_connect("/v1/consoles/ws", headers=headers or bearer(role, areas, name=name))
    hello = await next_frame(ws)
    assert hello["type"] == "hello"
    return ws


async def next_frame(ws: ClientWebSocketResponse, timeout: float = 5.0, skip_heartbeats: bool = True) -> Any:
    while True:
        message = await asyncio.wait_for(ws.receive(), timeout)
        frame = json.loads(message.data)
        if not (skip_heartbeats and frame["type"] == "heartbeat"):
            return frame


async def silent(ws: ClientWebSocketResponse, seconds: float = 0.3) -> bool:
    """True when the console received no event frame for a while."""
    try:
        frame = await next_frame(ws, timeout=seconds)
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected frame {frame}")
