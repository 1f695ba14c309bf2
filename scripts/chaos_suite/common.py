"""Services, databases, seeded cameras and the figures row that every scenario shares."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from scratch_db import scratch_database

ROOT = Path(__file__).resolve().parents[2]
SENDER, SECRET = "chaos", "chaos-sender-secret-0123456789abcdef"
TOKEN_KEY = "chaos-token-key-0123456789abcdef0123456789"
BOX = (10.760, 106.680, 10.800, 106.720)  # south, west, north, east: central Ho Chi Minh City
_ERROR_LINE = re.compile(r"^\S+ \S+ (?:ERROR|CRITICAL) ", re.MULTILINE)
COUNTED = ("calls", "call_locations", "events", "detections", "cameras")


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank); NaN for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


@dataclass
class Row:
    """One line of the chaos table."""

    scenario: str
    calls_sent: int = 0
    calls_stored: int = 0
    calls_duplicated: int = 0
    calls_lost: int = 0
    events_delivered: int = 0
    events_missed: int = 0
    events_duplicated: int = 0
    errors_5xx: int = 0
    answer_ms: tuple[float, float] = (float("nan"), float("nan"))
    push_ms: tuple[float, float] = (float("nan"), float("nan"))
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The row as JSON (NaN as null)."""
        data = asdict(self)
        for key in ("answer_ms", "push_ms"):
            data[key] = {"p50": _finite(data[key][0]), "p99": _finite(data[key][1])}
        return data


def _finite(value: float) -> float | None:
    return None if value != value else round(value, 1)


@contextlib.contextmanager
def database(label: str) -> Iterator[str]:
    """A throw-away migrated database, dropped afterwards whatever happens."""
    with scratch_database(f"callsight_chaos_{label}") as url:
        yield url


def stored_calls(url: str, call_ids: Sequence[str]) -> dict[str, int]:
    """How many rows each of these call ids has."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT call_id, count(*) FROM calls WHERE call_id = ANY(%s) GROUP BY call_id", (list(call_ids),)
        ).fetchall()
    return {str(call_id): int(count) for call_id, count in rows}


def opened_incidents(url: str) -> dict[str, str]:
    """incident_id -> hotline of every stored incident.opened event."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT incident_id::text, hotline FROM events WHERE type = 'incident.opened'")
        return {str(incident): str(hotline) for incident, hotline in rows.fetchall()}


class Service:
    """`callsight serve` as a child process on a fixed port, with its log in a temporary folder."""

    def __init__(self, db_url: str, env: dict[str, str] | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = tempfile.TemporaryDirectory(prefix="callsight-chaos-")
        self.log = Path(self.folder.name) / "service.log"
        base = {k: v for k, v in os.environ.items() if not k.startswith("CALLSIGHT_")}
        self.env = {
            **base,
            "CALLSIGHT_DATABASE_URL": db_url,
            "CALLSIGHT_HOST": "127.0.0.1",
            "CALLSIGHT_PORT": str(self.port),
            "CALLSIGHT_DATA_DIR": self.folder.name,
            "CALLSIGHT_WEBHOOK_SECRETS": f"{SENDER}={SECRET}",
            "CALLSIGHT_TOKEN_SECRET": TOKEN_KEY,
            "CALLSIGHT_CALLER_HASH_SECRET": "chaos-caller-key",
            "CALLSIGHT_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout_s: float = 60.0) -> None:
        """Starts the service and waits until /readyz answers 200."""
        with self.log.open("ab") as log:
            cli = Path(sys.executable).parent / "callsight"
            self.process = subprocess.Popen([str(cli), "serve"], env=self.env, stdout=log, stderr=log)
        self.starts += 1
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"callsight serve exited with {self.process.returncode}: see {self.log}")
            if self.get("/readyz")[0] == 200:
                return
            time.sleep(0.1)
        raise TimeoutError(f"callsight serve not ready within {timeout_s} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no close frames."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 15 s; the exit code (None when it had to be killed)."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def close(self) -> None:
        """Stops the process and removes its folder; a log with errors is kept under .data/chaos-logs."""
        self.stop()
        if self.errors_logged():
            kept = ROOT / ".data" / "chaos-logs" / f"{Path(self.folder.name).name}.log"
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.log, kept)
            print(f"service log with errors kept in {kept}", file=sys.stderr)
        self.folder.cleanup()

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def get(self, path: str) -> tuple[int, str]:
        """A plain GET (no credential): status and text; 0 when unreachable."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=3) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode()
        except OSError:
            return 0, ""

    def metric(self, name: str) -> float:
        """The sum of a Prometheus metric's samples (0 when absent or unreachable)."""
        text = self.get("/metrics")[1]
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))

    def rss_mb(self) -> float:
        """Resident memory of the service, MiB."""
        return _proc_status(self.process, "VmRSS") / 1024

    def sockets(self) -> int:
        """Open sockets of the service (client connections, database pool, listener)."""
        if not self.alive() or self.process is None:
            return 0
        fds = Path(f"/proc/{self.process.pid}/fd")
        with contextlib.suppress(OSError):
            return sum(1 for fd in fds.iterdir() if os.readlink(fd).startswith("socket:"))
        return 0

    def errors_logged(self) -> int:
        """Lines the service logged at ERROR or CRITICAL so far (unhandled exceptions among them)."""
        if not self.log.exists():
            return 0
        return len(_ERROR_LINE.findall(self.log.read_text(errors="replace")))


def _proc_status(process: subprocess.Popen[bytes] | None, key: str) -> float:
    if process is None or process.poll() is not None:
        return 0.0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    return 0.0


@contextlib.contextmanager
def running(db_url: str, env: dict[str, str] | None = None) -> Iterator[Service]:
    """A started service, stopped and cleaned up whatever happens."""
    service = Service(db_url, env)
    try:
        service.start()
        yield service
    finally:
        service.close()


def token(role: str, name: str) -> str:
    """A console bearer token signed with the suite's key."""
    from dispatch.auth.tokens import issue

    return issue(TOKEN_KEY.encode(), role, 4 * 3600, None, name)  # type: ignore[arg-type]


def signed(body: bytes) -> dict[str, str]:
    """Headers of a correctly signed JSON request, signed now."""
    from dispatch.auth.signing import signed_headers

    return {**signed_headers(SENDER, SECRET.encode(), body), "Content-Type": "application/json"}
