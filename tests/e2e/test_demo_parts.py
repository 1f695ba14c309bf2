"""The console's HTTP surface, the gateway simulator's authorisation, and the call and detection simulators,
against the same running service (no browser)."""

from __future__ import annotations

import asyncio
import json
import random
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp

from dispatch.sim import Sender
from dispatch.sim.calls import CallSimulator, Place, Recent, aml_sms
from dispatch.sim.detections import DetectionSimulator
from tests.e2e.conftest import Stack, post_signed
from tests.integration.conftest import SECRET, SENDER
from tests.integration.helpers import ORIGIN, call_body


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a GET."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_console_page_is_served_with_strict_headers(stack: Stack) -> None:
    status, headers, body = get(stack.url + "/console/")
    assert status == 200 and b'type="module"' in body
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self' ws: wss:" in csp
    assert f"img-src 'self' {stack.gateway_url}" in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    status, headers, _ = get(stack.url + "/console/app.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    status, _, _ = get(stack.url + "/static/vendor/leaflet-src.esm.js")
    assert status == 200
    with urllib.request.urlopen(stack.url + "/console?token=abc", timeout=10) as response:
        assert response.url == stack.url + "/console/?token=abc"


def test_nothing_outside_the_console_folders_is_served(stack: Stack) -> None:
    for path in (
        "/console/../settings.py",
        "/console/%2e%2e/settings.py",
        "/static/vendor/../../app.py",
        "/console/nope.js",
        "/static/vendor/.hidden",
    ):
        status, _, body = get(stack.url + path)
        assert status == 404, (path, body[:200])


def test_config_and_offline_base_map(stack: Stack) -> None:
    status, _, body = get(stack.url + "/console/config.json")
    assert status == 200 and json.loads(body) == {"tile_url": None}
    status, headers, body = get(stack.url + "/v1/map/base")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    import gzip

    base = json.loads(gzip.decompress(body))
    assert base["streets"]["type"] == base["areas"]["type"] == "FeatureCollection"
    assert len(base["streets"]["features"]) > 100 and len(base["areas"]["features"]) > 10


def test_gateway_serves_frames_only_with_a_feed_token_for_that_camera(stack: Stack) -> None:
    status, answer = post_signed(stack.url, "/v1/calls", call_body("113-E2E-GATEWAY"))
    assert status in (200, 201)
    east = next(c for c in answer["cameras"] if c["camera_id"] == "EAST-LOOKING")
    status, headers, body = get(east["feed"]["snapshot"])
    assert status == 200 and headers["Content-Type"] == "image/jpeg" and body[:2] == b"\xff\xd8"
    token = east["feed"]["snapshot"].split("token=")[1]
    assert get(f"{stack.gateway_url}/EAST-LOOKING/snapshot.jpg")[0] == 401
    assert get(f"{stack.gateway_url}/FAR-AWAY/snapshot.jpg?token={token}")[0] == 401
    with urllib.request.urlopen(east["feed"]["mjpeg"], timeout=10) as stream:
        assert stream.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        assert b"Content-Type: image/jpeg" in stream.read(4096)


def test_aml_sms_declares_its_own_length() -> None:
    from datetime import UTC, datetime

    sms = aml_sms(10.7725, 106.698, 35, datetime(2026, 11, 26, 13, 15, 1, tzinfo=UTC))
    assert sms.startswith('A"ML=1;lt=+10.77250;lg=+106.69800;rd=35;top=20261126131501;')
    assert sms.endswith(f";ml={len(sms)}")


async def _simulate(stack: Stack) -> tuple[list[str], int]:
    places = [Place(ORIGIN[0], ORIGIN[1], "Phuong Ben Thanh")]
    recent = Recent()
    async with aiohttp.ClientSession() as session:
        sender = Sender(session, stack.url, SENDER, SECRET)
        calls = CallSimulator(sender, places, recent, per_minute=60, seed=1)
        placed = [await calls.place_call() for _ in range(6)]
        for task in list(calls.followups):
            task.cancel()
        await asyncio.gather(*calls.followups, return_exceptions=True)
        gateway = stack.gateway_url + "/{path}"
        detections = DetectionSimulator(sender, ["EAST-LOOKING"], recent, 60, gateway, seed=2)
        accepted = sum([await detections.post_batch() for _ in range(3)])
    return [p for p in placed if p], accepted


def test_call_and_detection_simulators_post_what_callsight_accepts(stack: Stack) -> None:
    # In a thread of its own: the session's Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        placed, accepted = pool.submit(asyncio.run, _simulate(stack)).result(timeout=60)
    assert len(placed) == 6 and accepted >= 3
    status, answer = post_signed(stack.url, "/v1/detections", {"detections": []})
    assert status == 422, answer


def _forms(seed: int, n: int) -> set[str]:
    from dispatch.sim.calls import location

    rng = random.Random(seed)
    return {next(iter(location(rng, ORIGIN[0], ORIGIN[1], 30)))[:3] for _ in range(n)}


def test_simulated_calls_use_every_location_form() -> None:
    forms: set[Any] = _forms(1, 40)
    assert forms == {"pid", "aml", "lat"}
