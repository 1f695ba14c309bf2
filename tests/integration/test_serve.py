"""`callsight serve` as real processes: ready, HTTPS, SIGTERM, and two instances sharing one database."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import websockets

from dispatch.auth.signing import signed_headers
from dispatch.auth.tokens import issue
from tests.integration.helpers import SEED, call_body

KEY = "serve-test-key-0123456789abcdef0123"
SENDER_SECRET = "serve-test-sender-secret"
CLI = str(Path(sys.executable).parent / "callsight")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(url: str, context: ssl.SSLContext | None = None) -> int:
    try:
        with urllib.request.urlopen(url, timeout=1, context=context) as response:
            return int(response.status)
    except OSError:
        return 0


@contextmanager
def serving(database_url: str, data: Path, **extra: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A `callsight serve` process on a free port, ready; killed if the test leaves it running."""
    port = _free_port()
    env = {
        **os.environ,
        "CALLSIGHT_DATABASE_URL": database_url,
        "CALLSIGHT_PORT": str(port),
        "CALLSIGHT_DATA_DIR": str(data),
        "CALLSIGHT_TOKEN_SECRET": KEY,
        "CALLSIGHT_WEBHOOK_SECRETS": f"tel={SENDER_SECRET}",
        **extra,
    }
    process = subprocess.Popen([CLI, "serve"], env=env, stderr=subprocess.PIPE, text=True)
    scheme = "https" if "CALLSIGHT_TLS_CERT" in extra else "http"
    context = _trusting(extra.get("CALLSIGHT_TLS_CERT"))
    try:
        deadline = time.monotonic() + 60
        while _status(f"{scheme}://127.0.0.1:{port}/readyz", context) != 200:
            assert process.poll() is None and time.monotonic() < deadline, "service did not become ready"
            time.sleep(0.2)
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _trusting(cert: str | None) -> ssl.SSLContext | None:
    if cert is None:
        return None
    context = ssl.create_default_context(cafile=cert)
    context.check_hostname = False
    return context


def test_serve_starts_ready_and_stops_on_sigterm(database_url: str, tmp_path: Path) -> None:
    with serving(database_url, tmp_path, CALLSIGHT_LOG_FORMAT="json") as (process, _port):
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        logs = process.stderr.read() if process.stderr else ""
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(line["message"].startswith("camera index loaded") for line in lines)
    assert "event loop: uvloop" in [line["message"] for line in lines]  # the default


def test_sigterm_tells_consoles_to_reconnect(database_url: str, tmp_path: Path) -> None:
    token = issue(KEY.encode(), "police", 60)

    async def watch(process: subprocess.Popen[str], port: int) -> tuple[int | None, float]:
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/consoles/ws?access_token={token}") as ws:
            await ws.recv()
            process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            try:
                while True:
                    await ws.recv()
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None, time.monotonic() - started

    with serving(database_url, tmp_path) as (process, port):
        code, waited = asyncio.run(watch(process, port))
        assert code == 1012 and waited < 5
        assert process.wait(timeout=10) == 0


def test_serves_https_when_given_a_certificate(database_url: str, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    with serving(database_url, tmp_path, CALLSIGHT_TLS_CERT=str(cert), CALLSIGHT_TLS_KEY=str(key)) as (
        _,
        port,
    ):
        assert _status(f"https://127.0.0.1:{port}/healthz", _trusting(str(cert))) == 200
        assert _status(f"http://127.0.0.1:{port}/healthz") == 0


def _post(port: int, path: str, body: dict[str, object]) -> int:
    raw = json.dumps(body).encode()
    headers = {**signed_headers("tel", SENDER_SECRET.encode(), raw), "Content-Type": "application/json"}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=raw,
        headers=headers,
        method="PUT" if path.startswith("/v1/cameras/") else "POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_two_processes_share_calls_and_cameras(database_url: str, tmp_path: Path) -> None:
    token = issue(KEY.encode(), "police", 60)
    camera_id, lat, lon = SEED[0][0], SEED[0][1], SEED[0][2]

    async def listen(port: int) -> dict[str, object]:
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/consoles/ws?access_token={token}") as ws:
            await ws.recv()
            await asyncio.to_thread(_post, port_a, "/v1/calls", call_body("113-TWO", lat=lat, lon=lon))
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if frame["type"] == "incident.opened":
                    return dict(frame)

    with (
        serving(database_url, tmp_path / "a") as (_, port_a),
        # B on asyncio's own loop: both loops the settings offer serve the same path.
        serving(database_url, tmp_path / "b", CALLSIGHT_EVENT_LOOP="asyncio") as (process_b, port_b),
    ):
        camera = {"lat": lat, "lon": lon + 0.0005, "heading_deg": 270, "fov_deg": 90, "range_m": 100}
        assert _post(port_a, f"/v1/cameras/{camera_id}", camera) in (200, 201)
        time.sleep(0.5)  # B hears of the new camera through LISTEN/NOTIFY
        query = f"http://127.0.0.1:{port_b}/v1/cameras/covering?lat={lat}&lon={lon}&radius_m=5&access_token={token}"
        with urllib.request.urlopen(query, timeout=5) as answer:
            assert [c["camera_id"] for c in json.load(answer)["cameras"]] == [camera_id]
        frame = asyncio.run(listen(port_b))
        cameras = frame["cameras"]
        assert isinstance(cameras, list) and cameras[0]["camera_id"] == camera_id
        process_b.terminate()
        assert "event loop: asyncio" in (process_b.communicate(timeout=15)[1] or "")
