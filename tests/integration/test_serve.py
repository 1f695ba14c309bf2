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
        deadline = time.monotonic() + 30
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
