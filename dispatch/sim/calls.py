"""Signed 113/114/115 calls from realistic places of the demo city: AML-style fixes with 5–80 m uncertainty,
some refined later, some as PIDF-LO or AML SMS, most closed after a while."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dispatch.sim import Sender

log = logging.getLogger("dispatch.sim.calls")
HOTLINES = (("113", 0.5), ("114", 0.2), ("115", 0.3))
M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class Place:
    """Somewhere a caller may stand: in view of a camera."""

    lat: float
    lon: float
    area: str


@dataclass
class RecentCall:
    """A call the simulator placed, with the connected cameras Callsight matched to it."""

    call_id: str
    hotline: str
    cameras: list[str]
    at: float = field(default_factory=time.monotonic)


class Recent:
    """Calls of the last minutes, shared with the detection simulator."""

    def __init__(self, keep_s: float = 600.0) -> None:
        self.keep_s = keep_s
        self.calls: deque[RecentCall] = deque(maxlen=200)

    def add(self, call: RecentCall) -> None:
        self.calls.append(call)

    def live(self) -> list[RecentCall]:
        """Calls placed within the last keep_s seconds that have cameras with feeds."""
        now = time.monotonic()
        return [c for c in self.calls if now - c.at < self.keep_s and c.cameras]


def shifted(lat: float, lon: float, bearing_deg: float, metres: float) -> tuple[float, float]:
    """The point `metres` away along a bearing (flat-earth, fine at street scale)."""
    rad = math.radians(bearing_deg)
    per_lon = M_PER_DEG_LAT * math.cos(math.radians(lat))
    return lat + metres * math.cos(rad) / M_PER_DEG_LAT, lon + metres * math.sin(rad) / per_lon


def places_from_city(features: list[dict[str, Any]], rng: random.Random, limit: int = 2000) -> list[Place]:
    """Points in view of connected online cameras, where calls would come from."""
    cams = [f for f in features if f["properties"].get("connected") and f["properties"]["status"] == "online"]
    out = []
    for feature in rng.sample(cams, min(limit, len(cams))):
        props = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"]
        fov = float(props.get("fov_deg", 360.0))
        heading = float(props.get("heading_deg", 0.0)) + rng.uniform(-fov / 3, fov / 3)
        reach = float(props.get("range_m", 50.0)) * rng.uniform(0.3, 0.8)
        out.append(Place(*shifted(lat, lon, heading, reach), props.get("area", "")))
    return out


def aml_sms(lat: float, lon: float, radius_m: float, when: datetime) -> str:
    """An AML version 1 SMS body with its message length."""
    head = (
        f'A"ML=1;lt={lat:+.5f};lg={lon:+.5f};rd={round(radius_m)};top={when.strftime("%Y%m%d%H%M%S")};'
        f"lc=68;pm=G;si=452040000000000;ei=356938035643809;mcc=452;mnc=04;ml="
    )
    for digits in (2, 3, 4):
        length = len(head) + digits
        if len(str(length)) == digits:
            return head + str(length)
    raise ValueError("AML message too long")


def pidf_circle(lat: float, lon: float, radius_m: float, when: datetime) -> str:
    """A PIDF-LO presence document with one circle (gml:pos is "lat lon")."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
        'xmlns:gml="http://www.opengis.net/gml" xmlns:gs="http://www.opengis.net/pidflo/1.0" '
        'xmlns:con="urn:ietf:params:xml:ns:geopriv:conf" entity="pres:caller@telco.example">'
        '<tuple id="fix"><status><gp:geopriv><gp:location-info>'
        f'<gs:Circle srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>{lat:.6f} {lon:.6f}</gml:pos>'
        f'<gs:radius uom="urn:ogc:def:uom:EPSG::9001">{radius_m:.0f}</gs:radius></gs:Circle>'
        '<con:confidence pdf="normal">68</con:confidence>'
        "</gp:location-info><gp:usage-rules/><gp:method>GPS</gp:method></gp:geopriv></status>"
        f"<timestamp>{when.isoformat()}</timestamp></tuple></presence>"
    )


def location(rng: random.Random, lat: float, lon: float, radius_m: float) -> dict[str, Any]:
    """A fix in one of the forms telephony sends: mostly AML as JSON, some AML SMS, some PIDF-LO."""
    now = datetime.now(UTC).replace(microsecond=0)
    form = rng.random()
    if form < 0.15:
        return {"pidf_lo": pidf_circle(lat, lon, radius_m, now)}
    if form < 0.3:
        return {"aml": aml_sms(lat, lon, radius_m, now)}
    return {
        "lat": round(lat, 6),
        "lon": round(lon, 6),
        "uncertainty_m": round(radius_m, 1),
        "confidence": 0.68,
        "source": "aml",
        "measured_at": now.isoformat(),
    }


class CallSimulator:
    """Places calls at `per_minute` on average; refines and closes them over the following minutes."""

    def __init__(
        self, sender: Sender, places: list[Place], recent: Recent, per_minute: float, seed: int
    ) -> None:
        self.sender = sender
        self.places = places
        self.recent = recent
        self.per_minute = per_minute
        self.rng = random.Random(seed)
        self.counter = int(time.time()) % 100_000 * 10
        self.followups: set[asyncio.Task[None]] = set()

    def call_id(self, hotline: str) -> str:
        self.counter += 1
        return f"{hotline}-HCM-{datetime.now(UTC):%Y%m%d}-{self.counter:07d}"

    async def run(self) -> None:
        """Places calls until cancelled."""
        await self.sender.wait_ready()
        while True:
            await self.place_call()
            await asyncio.sleep(self.rng.expovariate(self.per_minute / 60.0))

    async def place_call(self) -> str | None:
        """One new call; its refinements and close are scheduled. Returns the call id when accepted."""
        place = self.rng.choice(self.places)
        hotline = self.rng.choices([h for h, _ in HOTLINES], [w for _, w in HOTLINES])[0]
        call_id = self.call_id(hotline)
        radius = self.rng.uniform(20, 80)
        lat, lon = shifted(place.lat, place.lon, self.rng.uniform(0, 360), self.rng.uniform(0, radius / 2))
        body = {
            "call_id": call_id,
            "hotline": hotline,
            "received_at": datetime.now(UTC).isoformat(),
            "caller": {"number": f"+849{self.rng.randrange(10**8):08d}"},
            "location": location(self.rng, lat, lon, radius),
        }
        status, answer = await self.sender.post("/v1/calls", body)
        if status not in (200, 201):
            log.warning("call %s refused: %s %s", call_id, status, answer)
            return None
        cameras = [c["camera_id"] for c in answer.get("cameras", []) if c.get("feed")]
        covering = sum(1 for c in answer.get("cameras", []) if c.get("covers"))
        log.info("call %s in %s (±%.0f m): %d covering cameras", call_id, place.area, radius, covering)
        self.recent.add(RecentCall(call_id, hotline, cameras))
        self.follow_up(self.later(call_id, place))
        return call_id

    def follow_up(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.followups.add(task)
        task.add_done_callback(self.followups.discard)

    async def later(self, call_id: str, place: Place) -> None:
        """Refined fixes (tighter, nearer the true place) for some calls, then a close for most."""
        refinements = self.rng.choice((0, 1, 1, 2))
        for seq in range(2, 2 + refinements):
            await asyncio.sleep(self.rng.uniform(6, 20))
            radius = self.rng.uniform(5, 25)
            lat, lon = shifted(place.lat, place.lon, self.rng.uniform(0, 360), radius / 3)
            fix = {"location": location(self.rng, lat, lon, radius), "seq": seq}
            status, _ = await self.sender.post(f"/v1/calls/{call_id}/locations", fix)
            log.info("call %s refined to ±%.0f m (%s)", call_id, radius, status)
        if self.rng.random() < 0.8:
            await asyncio.sleep(self.rng.uniform(90, 300))
            await self.sender.post(f"/v1/calls/{call_id}/close", {"reason": "handled"})
            log.info("call %s closed", call_id)
