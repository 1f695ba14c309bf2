"""The dispatcher console in headless Chromium against `callsight serve` and the gateway simulator."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Stack, post_signed, token
from tests.integration.helpers import call_body

NewPage = Callable[..., Page]
REFINED = {"lat": 10.7725, "lon": 106.69685, "uncertainty_m": 5}  # west of WEST-LOOKING, in its view


def open_console(page: Page, stack: Stack, role: str) -> Page:
    """Signs in with ?token= and waits for the live state."""
    page.goto(f"{stack.url}/console/?token={token(role)}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=10_000)
    return page


def new_call(stack: Stack, hotline: str = "113", base: str | None = None) -> str:
    call_id = f"{hotline}-E2E-{uuid.uuid4().hex[:10]}"
    status, answer = post_signed(base or stack.url, "/v1/calls", call_body(call_id, hotline))
    assert status == 201, answer
    return call_id


def css_class(name: str) -> re.Pattern[str]:
    """Matches a class attribute that contains `name`."""
    return re.compile(rf"(^|\s){name}(\s|$)")


def item(page: Page, call_id: str) -> Any:
    return page.locator(f'.incident[data-call-id="{call_id}"]')


def tile_image_loaded(page: Page, camera_id: str) -> None:
    """The tile of `camera_id` shows a frame that came through the gateway simulator."""
    tile = page.locator(f'.tile[data-camera-id="{camera_id}"]')
    expect(tile).to_have_class(css_class("live"), timeout=5_000)
    width = tile.locator("img").evaluate("img => img.naturalWidth")
    assert width == 640


def test_bad_token_shows_an_error(stack: Stack, new_page: NewPage) -> None:
    page = new_page()
    page.goto(f"{stack.url}/console/?token=not-a-token")
    error = page.locator("#signin-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Sign-in failed")
    expect(page.locator("#conn")).to_have_attribute("data-state", "signed-out")
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0


def test_police_token_shows_live_and_keeps_the_token_in_the_tab_only(stack: Stack, new_page: NewPage) -> None:
    page = new_page()
    response = page.goto(f"{stack.url}/console/?token={token('police')}")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and stack.gateway_url in csp
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(page.locator("#agency")).to_have_text("police")
    assert "token" not in page.url
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("sessionStorage.getItem('callsight.token')")
    hls = "import('/static/vendor/hls.min.mjs').then((m) => m.default.isSupported())"
    assert page.evaluate(hls) is True  # the vendored hls.js loads as a module under the page's policy


def test_a_call_appears_with_its_region_cameras_and_live_tiles(stack: Stack, new_page: NewPage) -> None:
    police = open_console(new_page(), stack, "police")
    fire = open_console(new_page(), stack, "fire")
    started = time.monotonic()
    call_id = new_call(stack, "113")
    expect(item(police, call_id)).to_be_visible(timeout=2_000)
    assert time.monotonic() - started < 2.0
    expect(police.locator("path.caller-region")).to_have_count(1)
    expect(police.locator('.cam-marker.covering[data-camera-id="EAST-LOOKING"]')).to_be_visible()
    expect(police.locator('.cam-marker.covering[data-camera-id="NORTH-DOME"]')).to_be_visible()
    expect(police.locator('.cam-marker.covering[data-camera-id="WEST-LOOKING"]')).to_have_count(0)
    expect(police.locator('.cam-marker.covering[data-camera-id="PTZ-SOUTH"]')).to_be_visible()
    expect(police.locator("path.ptz-aim")).to_have_count(1)
    expect(police.locator(".tile").first).to_have_attribute("data-camera-id", "EAST-LOOKING")
    tile_image_loaded(police, "EAST-LOOKING")
    expect(police.locator('#no-feed-list [data-camera-id="NORTH-DOME"]')).to_be_visible()
    expect(police.locator("#detail-area")).to_have_text("Phuong Ben Thanh")
    expect(item(fire, call_id)).to_have_count(0)
    expect(fire.locator("#no-incidents")).to_be_visible()


def test_a_refined_location_moves_the_caller_and_reranks_the_tiles(stack: Stack, new_page: NewPage) -> None:
    police = open_console(new_page(), stack, "police")
    call_id = new_call(stack)
    expect(police.locator(".tile").first).to_have_attribute("data-camera-id", "EAST-LOOKING")
    before = police.locator("path.caller-marker").bounding_box()
    status, _ = post_signed(stack.url, f"/v1/calls/{call_id}/locations", {"location": REFINED, "seq": 2})
    assert status == 200
    expect(police.locator(".tile").first).to_have_attribute("data-camera-id", "WEST-LOOKING", timeout=2_000)
    expect(police.locator('.cam-marker.covering[data-camera-id="WEST-LOOKING"]')).to_be_visible()
    tile_image_loaded(police, "WEST-LOOKING")
    police.wait_for_timeout(900)  # the marker glides to its new place
    after = police.locator("path.caller-marker").bounding_box()
    assert before is not None and after is not None
    assert after["x"] < before["x"] - 20, (before, after)


def test_a_detection_appears_in_the_timeline(stack: Stack, new_page: NewPage) -> None:
    police = open_console(new_page(), stack, "police")
    new_call(stack)
    expect(police.locator(".tile").first).to_have_attribute("data-camera-id", "EAST-LOOKING")
    at = time.time()
    detection = {
        "detection_id": f"e2e-{uuid.uuid4().hex[:12]}",
        "camera_id": "EAST-LOOKING",
        "detected_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(at)),
        "kind": "plate",
        "label": "51F-123.45",
        "confidence": 0.93,
        "box": [0.41, 0.55, 0.12, 0.06],
        "snapshot_url": f"{stack.gateway_url}/EAST-LOOKING/snapshot.jpg?at={at:.1f}&box=0.41,0.55,0.12,0.06",
    }
    status, answer = post_signed(stack.url, "/v1/detections", detection)
    assert status in (200, 201), answer
    entry = police.locator(f'#timeline [data-detection-id="{detection["detection_id"]}"]')
    expect(entry).to_be_visible(timeout=2_000)
    expect(entry).to_contain_text("51F-123.45")
    thumb = entry.locator("img.thumb")
    expect(thumb).to_have_js_property("complete", True)
    assert thumb.evaluate("img => img.naturalWidth") == 640


def test_keyboard_moves_opens_enlarges_and_goes_back(stack: Stack, new_page: NewPage) -> None:
    police = open_console(new_page(1366, 768), stack, "police")
    first = new_call(stack)
    expect(item(police, first)).to_have_class(css_class("open"))
    second = new_call(stack)
    expect(item(police, second)).to_be_visible()
    police.keyboard.press("ArrowUp")
    expect(item(police, second)).to_have_class(css_class("cursor"))
    police.keyboard.press("Enter")
    expect(item(police, second)).to_have_class(css_class("open"))
    police.keyboard.press("1")
    expect(police.locator(".tile.enlarged")).to_have_count(1)
    police.keyboard.press("Escape")
    expect(police.locator(".tile.enlarged")).to_have_count(0)
    police.keyboard.press("Escape")
    expect(police.locator("#detail")).to_be_hidden()


def test_after_a_restart_the_page_resumes_and_shows_what_it_missed(stack: Stack, new_page: NewPage) -> None:
    other = stack.second_instance()
    police = open_console(new_page(), stack, "police")
    seen = new_call(stack)
    expect(item(police, seen)).to_be_visible()
    stack.service.stop()
    expect(police.locator("#conn")).to_have_attribute("data-state", "reconnecting")
    missed = new_call(stack, base=other)  # stored while this page's instance is down
    stack.service.start()
    expect(police.locator("#conn")).to_have_attribute("data-state", "resumed", timeout=10_000)
    expect(item(police, missed)).to_be_visible(timeout=5_000)
    expect(item(police, seen)).to_be_visible()
