"""The Frigate MQTT bridge: subscribes to `frigate/events`, reconnects, stores and announces detections."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import aiomqtt
import asyncpg
from aiohttp import web

from dispatch.detections.frigate import (
    DEFAULT_FRAME,
    Frame,
    FrigateConfig,
    FrigateMapper,
    FrigateStats,
    parse_cameras,
    parse_frame,
)
from dispatch.detections.hook import DETECTIONS_HOOK
from dispatch.detections.model import DetectionIn
from dispatch.storage.db import transaction
from dispatch.storage.frigate import upsert

log = logging.getLogger(__name__)

OnDetection = Callable[[DetectionIn, bool], Awaitable[None]]
BACKOFF_MIN_S: Final = 0.5
BACKOFF_MAX_S: Final = 30.0
DEFAULT_TOPIC: Final = "frigate/events"
_PORTS: Final = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883, "ssl": 8883}


@dataclass
class BridgeStats(FrigateStats):
    """The mapper's counts, plus the connections made and lost."""

    connects: int = 0
    failures: int = 0


@dataclass(frozen=True)
class Broker:
    """Where the broker is, from mqtt://[user:password@]host[:port] (mqtts:// for TLS)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False

    def client_args(self) -> dict[str, Any]:
        """Keyword arguments for aiomqtt.Client."""
        return {
            "hostname": self.host,
            "port": self.port,
            "username": self.username,
            "password": self.password,
            "tls_context": ssl.create_default_context() if self.tls else None,
        }


def parse_broker(url: str) -> Broker:
    """The broker a URL names; a wrong URL is a ValueError now rather than endless reconnects later."""
    parts = urlsplit(url)
    if parts.scheme not in _PORTS or not parts.hostname:
        # The URL is not echoed: it may hold a password.
        raise ValueError("MQTT URL must look like mqtt://[user:password@]host[:port] (mqtts:// for TLS)")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return Broker(
        parts.hostname,
        parts.port or _PORTS[parts.scheme],
        username,
        password,
        parts.scheme in ("mqtts", "ssl"),
    )


async def _deliver(mapper: FrigateMapper, payload: object, on_detection: OnDetection) -> None:
    mapped = mapper.feed(payload)
    if mapped is None:
        return
    try:
        await on_detection(*mapped)
    except Exception:
        # One message that cannot be stored must not stop the stream: Frigate's next update carries it again.
        log.exception("Frigate detection %s not handled", mapped[0].detection_id)


async def run_frigate_bridge(
    url: str,
    topic: str,
    mapping: Mapping[str, str],
    on_detection: OnDetection,
    *,
    frames: Mapping[str, Frame] | None = None,
    default_frame: Frame = DEFAULT_FRAME,
    snapshot_base: str = "",
    stats: BridgeStats | None = None,
) -> None:
    """Feeds each Frigate event on `topic` to on_detection(detection, ended) until cancelled, reconnecting."""
    broker = parse_broker(url)
    stats = stats if stats is not None else BridgeStats()
    mapper = FrigateMapper(FrigateConfig(mapping, frames or {}, default_frame, snapshot_base), stats)
    delay = BACKOFF_MIN_S
    while True:
        try:
            async with aiomqtt.Client(**broker.client_args()) as client:
                await client.subscribe(topic, qos=1)
                stats.connects += 1
                delay = BACKOFF_MIN_S
                log.info("Frigate bridge subscribed to %s on %s:%d", topic, broker.host, broker.port)
                async for message in client.messages:
                    await _deliver(mapper, message.payload, on_detection)
        except aiomqtt.MqttError as exc:
            stats.failures += 1
            log.warning("MQTT broker %s:%d: %s; reconnecting in %.1f s", broker.host, broker.port, exc, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, BACKOFF_MAX_S)


class FrigateBridge:
    """Stores each Frigate detection in place; hands the new or changed ones to the app's detections hook."""

    def __init__(self, pool: asyncpg.Pool, app: web.Application | None = None) -> None:
        self.pool = pool
        self.app = app
        self.stats = BridgeStats()
        self.outcomes: Counter[str] = Counter()
        self._unregistered: set[str] = set()

    async def on_detection(self, detection: DetectionIn, ended: bool) -> None:
        """Stores one detection; announces it when it is new or differs from the stored row."""
        async with transaction(self.pool) as conn:
            outcome = await upsert(conn, detection)
        self.outcomes[outcome] += 1
        if outcome == "unregistered":
            # Said once per camera: a mapping to an unregistered id drops every event of that camera.
            if detection.camera_id not in self._unregistered:
                self._unregistered.add(detection.camera_id)
                log.warning(
                    "Frigate detections of camera %s dropped: it is not registered (PUT /v1/cameras)",
                    detection.camera_id,
                )
            return
        # The hook is read on each call: the app sets it while starting, possibly after the bridge.
        hook = self.app.get(DETECTIONS_HOOK) if self.app is not None else None
        if hook is None or outcome == "unchanged":
            return
        try:
            await hook([detection])
        except Exception:
            log.exception("Frigate detection %s stored but not pushed to consoles", detection.detection_id)

    def start(
        self, url: str, topic: str, cameras: str, frame: str = "1920x1080", snapshot_base: str = ""
    ) -> asyncio.Task[None]:
        """Checks the configuration now (a mistake stops start-up) and runs the bridge in a task."""
        parse_broker(url)
        mapping, frames = parse_cameras(cameras)
        if not mapping:
            log.warning("Frigate bridge started with no camera mapping: every event will be dropped")
        run = run_frigate_bridge(
            url,
            topic or DEFAULT_TOPIC,
            mapping,
            self.on_detection,
            frames=frames,
            default_frame=parse_frame(frame),
            snapshot_base=snapshot_base,
            stats=self.stats,
        )
        return asyncio.create_task(run, name="frigate-bridge")
