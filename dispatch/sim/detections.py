"""Detection batches from connected cameras: plates, watch-list faces, and smoke or fire near recent calls."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from dispatch.sim import Sender
from dispatch.sim.calls import Recent

log = logging.getLogger("dispatch.sim.detections")
PLATE_SERIES = "ABCDEFGHKLMNPSTUVXYZ"
# What an analytics box would see around each kind of call.
NEAR_CALL = {
    "113": (("plate", 4), ("face", 2), ("person", 2), ("vehicle", 2), ("weapon", 0.3)),
    "114": (("smoke", 4), ("fire", 3), ("crowd", 1), ("vehicle", 1)),
    "115": (("accident", 3), ("crowd", 2), ("person", 2), ("vehicle", 1)),
}
BACKGROUND = (("plate", 5), ("vehicle", 3), ("person", 2), ("face", 1))


def plate(rng: random.Random) -> str:
    """A Ho Chi Minh City plate such as 51F-123.45."""
    series = f"{rng.choice((50, 51, 59))}{rng.choice(PLATE_SERIES)}"
    return f"{series}-{rng.randrange(1000):03d}.{rng.randrange(100):02d}"


def label_for(kind: str, rng: random.Random) -> tuple[str | None, dict[str, Any]]:
    """The label and attributes an analytics box would give a detection of `kind`."""
    if kind == "plate":
        return plate(rng), {"colour": rng.choice(("white", "yellow", "blue"))}
    if kind == "face":
        watch = f"WL-{rng.randrange(1, 400):04d}"
        return watch, {"watchlist_id": watch, "match_score": round(rng.uniform(0.7, 0.97), 2)}
    if kind == "vehicle":
        return rng.choice(("motorbike", "car", "truck", "bus")), {}
    if kind in ("fire", "smoke"):
        return kind, {"area_share": round(rng.uniform(0.02, 0.3), 2)}
    return kind, {}


def snapshot_url(gateway: str, path: str, at: float, box: list[float], label: str | None) -> str:
    """The gateway frame of that moment, boxed; the console adds its own feed token to open it."""
    base = gateway.split("{path}", 1)[0]
    query = {"at": f"{at:.1f}", "box": ",".join(f"{v:.3f}" for v in box), "label": (label or "")[:40]}
    return f"{base}{path}/snapshot.jpg?{urlencode(query)}"


class DetectionSimulator:
    """Posts a small batch every so often: mostly on cameras of recent calls, some anywhere."""

    def __init__(
        self, sender: Sender, cameras: list[str], recent: Recent, per_minute: float, gateway: str, seed: int
    ) -> None:
        self.sender = sender
        self.cameras = cameras
        self.recent = recent
        self.per_minute = per_minute
        self.gateway = gateway
        self.rng = random.Random(seed)

    async def run(self) -> None:
        """Posts batches until cancelled."""
        await self.sender.wait_ready()
        while True:
            await asyncio.sleep(self.rng.expovariate(self.per_minute / 60.0))
            await self.post_batch()

    def pick(self) -> tuple[list[str], tuple[tuple[str, float], ...]]:
        """Cameras and kinds for the next batch."""
        live = self.recent.live()
        if live and self.rng.random() < 0.8:
            call = self.rng.choice(live)
            return call.cameras[:4], NEAR_CALL[call.hotline]
        return ([self.rng.choice(self.cameras)] if self.cameras else []), BACKGROUND

    def detection(self, camera_id: str, kinds: tuple[tuple[str, float], ...]) -> dict[str, Any]:
        """One detection on `camera_id`."""
        rng = self.rng
        kind = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        label, attributes = label_for(kind, rng)
        w, h = rng.uniform(0.06, 0.25), rng.uniform(0.05, 0.25)
        box = [round(rng.uniform(0, 1 - w), 3), round(rng.uniform(0.4, 1 - h), 3), round(w, 3), round(h, 3)]
        at = time.time() - rng.uniform(0, 2)
        return {
            "detection_id": f"sim-{uuid.uuid4().hex[:16]}",
            "camera_id": camera_id,
            "detected_at": datetime.fromtimestamp(at, UTC).isoformat(),
            "kind": kind,
            "label": label,
            "confidence": round(rng.uniform(0.62, 0.98), 2),
            "box": box,
            "snapshot_url": snapshot_url(self.gateway, camera_id, at, box, label),
            "attributes": attributes,
        }

    async def post_batch(self) -> int:
        """Posts one batch; returns how many detections were accepted."""
        cameras, kinds = self.pick()
        if not cameras:
            return 0
        batch = [self.detection(self.rng.choice(cameras), kinds) for _ in range(self.rng.randint(1, 3))]
        status, answer = await self.sender.post("/v1/detections", {"detections": batch})
        accepted = int(answer.get("accepted", 0)) if status == 200 and isinstance(answer, dict) else 0
        log.info("detections: %d of %d accepted (%s)", accepted, len(batch), status)
        return accepted
