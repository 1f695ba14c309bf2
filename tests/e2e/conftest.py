"""The console in a real browser: `callsight serve` and the gateway simulator as processes, Debian's Chromium
driven by Playwright, a throw-away PostGIS database, cameras seeded through the signed registry API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from dispatch.auth.tokens import issue
from tests.integration.conftest import SECRET, SENDER, TOKEN_KEY, database_url, signed
from tests.integration.helpers import seed_bodies

__all__ = ["database_url"]  # the throw-away database fixture, shared with the integration tests

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BIN = Path(sys.executable).parent
PTZ = {  # 33 m south of the test calls, turning from west through north to east
    "lat": 10.7722,
    "lon": 106.6980,
    "heading_deg": 0.0,
    "fov_deg": 60.0,
    "range_m": 120.0,
    "kind": "ptz",
    "pan_min_deg": 270.0,
    "pan_max_deg": 90.0,
    "height_m": 8.0,
    "quality": "analog",
    "connected": False,
    "area": "Phuong Ben Thanh",
    "name": "Ptz-South",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


class Process:
    """A child process with its output in a log file; started, awaited ready, stopped, restarted."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], ready_url: str, logs: Path) -> None:
        self.name, self.argv, self.env, self.ready_url = name, argv, env, ready_url
        self.log_path = logs / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while _status(self.ready_url) != 200:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not become ready:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Stack:
    """The service (and optionally a second instance on the same database) plus the gateway simulator."""

    def __init__(self, database: str, logs: Path) -> None:
        self.port, self.gateway_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.gateway_url = f"http://127.0.0.1:{self.gateway_port}"
        self.logs = logs
        self.env = {
            **os.environ,
            "CALLSIGHT_DATABASE_URL": database,
            "CALLSIGHT_DATA_DIR": str(logs),
            "CALLSIGHT_WEBHOOK_SECRETS": f"{SENDER}={SECRET}",
            "CALLSIGHT_TOKEN_SECRET": TOKEN_KEY,
            "CALLSIGHT_CALLER_HASH_SECRET": "e2e-caller-key",
            "CALLSIGHT_MEDIA_GATEWAY": self.gateway_url + "/{path}",
            "CALLSIGHT_HEARTBEAT_S": "2",
            "CALLSIGHT_LOG_LEVEL": "WARNING",
        }
        self.service = self.serve("service", self.port)
        gateway = [
            str(BIN / "python"),
            "-m",
            "dispatch.sim",
            "gateway",
            "--url",
            self.url,
            "--listen",
            f"127.0.0.1:{self.gateway_port}",
        ]
        self.gateway = Process("gateway", gateway, self.env, self.gateway_url + "/healthz", logs)
        self.other: Process | None = None

    def serve(self, name: str, port: int) -> Process:
        env = {**self.env, "CALLSIGHT_PORT": str(port)}
        argv = [str(BIN / "callsight"), "serve"]
        return Process(name, argv, env, f"http://127.0.0.1:{port}/readyz", self.logs)

    def second_instance(self) -> str:
        """Another instance on the same database (a telephony system may reach either); its base URL."""
        if self.other is None:
            port = free_port()
            self.other = self.serve("service-2", port)
            self.other.start()
        return self.other.ready_url.removesuffix("/readyz")

    def stop(self) -> None:
        for process in (self.other, self.gateway, self.service):
            if process is not None:
                process.stop()


def post_signed(base: str, path: str, body: dict[str, Any], method: str = "POST") -> tuple[int, Any]:
    """A signed request as a telephony or analytics system sends it; the status and JSON answer."""
    raw = json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=raw, headers=signed(raw), method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def seed_cameras(base: str) -> None:
    """The known cameras around Ben Thanh (tests/integration/helpers.py) and an analog PTZ camera, through
    the signed registry API."""
    for camera_id, body in seed_bodies():
        status, answer = post_signed(base, f"/v1/cameras/{camera_id}", body, method="PUT")
        assert status in (200, 201), answer
    status, answer = post_signed(base, "/v1/cameras/PTZ-SOUTH", PTZ, method="PUT")
    assert status in (200, 201), answer


def token(role: str, name: str | None = None) -> str:
    """A console token signed with the service's key."""
    return issue(TOKEN_KEY.encode(), role, 3600, None, name)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The running service and gateway simulator, with the known cameras registered."""
    vendor = ROOT / "dispatch" / "static" / "vendor" / "leaflet-src.esm.js"
    if not vendor.exists():
        pytest.fail("front-end libraries missing: run scripts/test (it calls ensure_frontend)")
    running = Stack(database_url, tmp_path_factory.mktemp("e2e-stack"))
    try:
        running.service.start()
        if _status(running.url + "/console/") != 200:
            pytest.fail("callsight serve has no /console/: create_app must add console_page.routes")
        running.gateway.start()
        seed_cameras(running.url)
        yield running
    finally:
        running.stop()


# Package scope, not session: Playwright's sync API keeps an event loop running in this thread until it
# stops, and the asyncio tests that run after this package need the thread free of one.
@pytest.fixture(scope="package")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Debian's Chromium (never a downloaded one) with a fresh profile."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium package")
    with sync_playwright() as playwright:
        context = _launch(playwright, tmp_path_factory.mktemp("chromium-profile"))
        yield context
        context.close()


def _launch(playwright: Playwright, profile: Path) -> BrowserContext:
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1920, "height": 1080},
    )


@pytest.fixture
def new_page(browser: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Opens tabs (each with its own sessionStorage); every tab is screenshotted into .artifacts/e2e/."""
    pages: list[Page] = []

    def make(width: int = 1920, height: int = 1080) -> Page:
        page = browser.new_page()
        page.set_viewport_size({"width": width, "height": height})
        pages.append(page)
        return page

    yield make
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(pages):
        suffix = f"-{i + 1}" if len(pages) > 1 else ""
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}{suffix}.png"))
        page.close()
