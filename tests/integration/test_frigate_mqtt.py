"""The Frigate bridge against a real Mosquitto broker and PostGIS: one event is one row, kept updated."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import asyncpg
import pytest
from aiohttp import web

from dispatch.app import create_app
from dispatch.context import POOL
from dispatch.detections.frigate import FrigateConfig, to_detection
from dispatch.detections.hook import DETECTIONS_HOOK
from dispatch.detections.model import DetectionIn
from dispatch.mqtt import Broker, FrigateBridge, parse_broker, run_frigate_bridge
from dispatch.settings import Settings
from dispatch.storage.frigate import upsert
from tests.integration.helpers import Client, seed_cameras

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads" / "frigate"
# Debian puts the broker in /usr/sbin, which is not on every user's PATH.
MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
pytestmark = pytest.mark.skipif(
    MOSQUITTO is None, reason="mosquitto is not installed (Debian package mosquitto; scripts/test adds it)"
)
# Frigate names of the seeded cameras; ham_nghi_lpr points at an id that was never registered.
CAMERAS = "ben_thanh_gate=EAST-LOOKING,nguyen_hue_north=NORTH-DOME,ham_nghi_lpr=NOT-REGISTERED"
PERSON = "frigate-1795698895.475377-mxklsc"
Pushed = list[list[str]]


class Mosquitto:
    """One broker on a free loopback port, run in the foreground so that a test can stop and restart it."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.config = folder / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.log = folder / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert MOSQUITTO is not None
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.port}: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@pytest.fixture
def pushed() -> Pushed:
    return []


@pytest.fixture
async def app(settings: Settings, pushed: Pushed) -> web.Application:
    """The real application, with a hook recording what would reach the consoles."""
    application = create_app(settings)

    async def hook(items: list[DetectionIn]) -> None:
        pushed.append([item.detection_id for item in items])

    application[DETECTIONS_HOOK] = hook
    return application


@pytest.fixture
def topic() -> str:
    """A topic of its own per test: the broker outlives each test."""
    return f"frigate-{uuid.uuid4().hex[:8]}/events"


@pytest.fixture
async def bridge(client: Client, app: web.Application, broker: Mosquitto, topic: str,
                 ) -> AsyncIterator[FrigateBridge]:
    """Seeded cameras, and the bridge started the way the application starts it, connected."""
    await seed_cameras(client)
    running = FrigateBridge(app[POOL], app)
    task = running.start(broker.url, topic, CAMERAS)
    await until(lambda: running.stats.connects == 1)
    yield running
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def until(condition: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0) -> None:
    """Polls a condition (plain or awaitable) until it holds; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        held = condition()
        if await held if inspect.isawaitable(held) else held:
            return
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def publish(broker: Mosquitto, topic: str, *messages: str | bytes) -> None:
    """Publishes payload files by name (or raw bytes), in order, as Frigate does."""
    async with aiomqtt.Client("127.0.0.1", broker.port) as publisher:
        for message in messages:
            raw = message if isinstance(message, bytes) else (PAYLOADS / f"{message}.json").read_bytes()
            await publisher.publish(topic, raw, qos=1)


async def rows(app: web.Application) -> list[dict[str, Any]]:
    async with app[POOL].acquire() as conn:
        found = await conn.fetch(
            "SELECT detection_id, kind, label, confidence, box, attributes FROM detections ORDER BY 1")
    return [dict(row) for row in found]


async def test_new_update_end_is_one_row_updated_in_place(
    bridge: FrigateBridge, app: web.Application, broker: Mosquitto, topic: str, pushed: Pushed
) -> None:
    await publish(broker, topic, "person_new", "person_update", "person_end")
    await until(lambda: sum(bridge.outcomes.values()) == 3)
    [row] = await rows(app)
    assert (row["detection_id"], row["kind"], row["label"]) == (PERSON, "person", "person")
    assert row["confidence"] == 0.958984375  # the update's top score, not its current 0.816
    assert row["box"] == pytest.approx([610 / 1920, 480 / 1080, 138 / 1920, 310 / 1080])
    assert row["attributes"]["zones"] == ["le_loi_crossing"]
    assert bridge.outcomes == {"new": 1, "changed": 1, "unchanged": 1}
    assert pushed == [[PERSON], [PERSON]]  # the end changed nothing, so consoles hear nothing more


async def test_unknown_cameras_bad_json_and_unregistered_ids_are_skipped(
    bridge: FrigateBridge, app: web.Application, broker: Mosquitto, topic: str, pushed: Pushed
) -> None:
    await publish(broker, topic, b"{not json", b"[]", "unknown_camera", "bus_wide_frame", "car_plate", "fire")
    await until(lambda: bridge.stats.messages == 6 and sum(bridge.outcomes.values()) == 3)
    stored = await rows(app)
    assert [(r["kind"], r["label"]) for r in stored] == [("plate", "51F-123.45"), ("fire", "fire")]
    assert bridge.stats.unknown == {"back_garage": 1} and bridge.stats.invalid == 2
    assert bridge.outcomes == {"new": 2, "unregistered": 1}
    assert len(pushed) == 2


async def test_the_bridge_reconnects_after_the_broker_restarts(bridge: FrigateBridge, app: web.Application,
                                                               broker: Mosquitto, topic: str) -> None:
    await publish(broker, topic, "person_new")
    await until(lambda: bridge.outcomes["new"] == 1)
    broker.stop()
    await until(lambda: bridge.stats.failures >= 1)
    broker.start()
    await until(lambda: bridge.stats.connects == 2)
    await publish(broker, topic, "person_update")

    async def updated() -> bool:
        return [r["confidence"] for r in await rows(app)] == [0.958984375]

    await until(updated)
    assert bridge.outcomes == {"new": 1, "changed": 1}


async def test_without_a_broker_it_backs_off_exponentially_and_stops_when_cancelled() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe closes
    bridge = FrigateBridge(pool=None)  # never used: no message ever arrives
    task = asyncio.create_task(run_frigate_bridge(f"mqtt://127.0.0.1:{port}", "frigate/events", {},
                                                  bridge.on_detection, stats=bridge.stats))
    # Tries at 0, 0.5 and 1.5 s, then waits 2 s: a fixed 0.5 s delay would have made 4 or 5 tries by now.
    await asyncio.sleep(2.0)
    assert bridge.stats.failures == 3 and bridge.stats.connects == 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=1)


async def test_a_wrong_configuration_stops_start_up() -> None:
    bridge = FrigateBridge(pool=None)  # never used: refused before any connection
    for url, cameras, frame in [("http://broker", "a=B", "1920x1080"), ("mqtt://broker", "a", "1920x1080"),
                                ("mqtt://broker", "a=B", "wide")]:
        with pytest.raises(ValueError):
            bridge.start(url, "frigate/events", cameras, frame)
    with pytest.raises(ValueError, match="MQTT URL"):
        await run_frigate_bridge("broker:1883", "frigate/events", {}, bridge.on_detection)


def test_broker_urls_and_no_password_in_errors_or_reprs() -> None:
    escaped = parse_broker("mqtt://frigate%40hq:p%3Ass@10.0.0.5")
    assert escaped == Broker("10.0.0.5", 1883, "frigate@hq", "p:ss")
    assert parse_broker("mqtts://broker.local").client_args()["port"] == 8883
    assert "p:ss" not in repr(parse_broker("mqtt://u:p%3Ass@h:1884"))
    with pytest.raises(ValueError) as refused:
        parse_broker("tcp:/u:hunter2@broker")
    assert "hunter2" not in str(refused.value)


async def test_storing_the_same_state_twice_writes_nothing(settings: Settings, client: Client) -> None:
    """The upsert alone: new, the same again, changed, and a camera that is not registered."""
    await seed_cameras(client)
    config = FrigateConfig({"ben_thanh_gate": "EAST-LOOKING", "ham_nghi_lpr": "NOT-REGISTERED"})
    new, update, lost = (to_detection(json.loads((PAYLOADS / f"{name}.json").read_text()), config)[0]
                         for name in ("person_new", "person_update", "bus_wide_frame"))
    conn = await asyncpg.connect(settings.database_url)  # a plain connection: no JSON codecs, unlike the pool
    try:
        assert [await upsert(conn, item) for item in (new, new, update, update, lost)] == [
            "new", "unchanged", "changed", "unchanged", "unregistered"]
        stored = await conn.fetchrow("SELECT confidence, attributes::text AS a FROM detections")
        assert stored is not None and stored["confidence"] == update.confidence and "le_loi" in stored["a"]
    finally:
        await conn.close()
