"""`callsight serve` as a real process: it starts, reports ready, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
            return int(response.status)
    except OSError:
        return 0


def test_serve_starts_ready_and_stops_on_sigterm(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "CALLSIGHT_DATABASE_URL": database_url,
        "CALLSIGHT_PORT": str(port),
        "CALLSIGHT_DATA_DIR": str(tmp_path),
        "CALLSIGHT_LOG_FORMAT": "json",
    }
    cli = Path(sys.executable).parent / "callsight"
    process = subprocess.Popen([str(cli), "serve"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while _ready(port) != 200 and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.2)
        assert _ready(port) == 200
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
    logs = process.stderr.read() if process.stderr else ""
    assert code == 0
    assert '"message": "camera index loaded' in logs or '"message":"camera index loaded' in logs


def test_sigterm_tells_consoles_to_reconnect(database_url: str, tmp_path: Path) -> None:
    import asyncio

    import websockets

    from dispatch.auth.tokens import issue

    port = _free_port()
    env = {
        **os.environ,
        "CALLSIGHT_DATABASE_URL": database_url,
        "CALLSIGHT_PORT": str(port),
        "CALLSIGHT_DATA_DIR": str(tmp_path),
        "CALLSIGHT_TOKEN_SECRET": "serve-test-key-0123456789abcdef0123",
    }
    process = subprocess.Popen([str(Path(sys.executable).parent / "callsight"), "serve"], env=env)
    token = issue(b"serve-test-key-0123456789abcdef0123", "police", 60)

    async def watch() -> tuple[int | None, float]:
        async with websockets.connect(f"ws://127.0.0.1:{port}/v1/consoles/ws?access_token={token}") as ws:
            await ws.recv()
            process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            try:
                while True:
                    await ws.recv()
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None, time.monotonic() - started

    try:
        deadline = time.monotonic() + 60
        while _ready(port) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        code, waited = asyncio.run(watch())
        assert code == 1012 and waited < 5
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_serves_https_when_given_a_certificate(database_url: str, tmp_path: Path) -> None:
    import ssl

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
    port = _free_port()
    env = {
        **os.environ,
        "CALLSIGHT_DATABASE_URL": database_url,
        "CALLSIGHT_PORT": str(port),
        "CALLSIGHT_DATA_DIR": str(tmp_path),
        "CALLSIGHT_TLS_CERT": str(cert),
        "CALLSIGHT_TLS_KEY": str(key),
    }
    process = subprocess.Popen([str(Path(sys.executable).parent / "callsight"), "serve"], env=env)
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    try:
        deadline, status = time.monotonic() + 30, 0
        while status != 200 and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", context=context) as answer:
                    status = answer.status
            except OSError:
                time.sleep(0.3)
        assert status == 200
    finally:
        process.terminate()
        process.wait(timeout=15)
