"""Query endpoints for consoles and other systems: covering and nearby cameras, same matching code."""

from __future__ import annotations

import math
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dispatch.auth import guard
from dispatch.calls.feeds import expiry, paths_token
from dispatch.calls.matching import camera_entry
from dispatch.camera_index import LiveIndex
from dispatch.context import INDEX, POOL, SETTINGS
from dispatch.frames import feed_paths, with_feeds
from dispatch.jsonio import respond
from dispatch.problems import from_validation
from dispatch.storage import match as postgis
from dispatch.storage.db import connection
from geo import region as regions
from geo.aim import aim
from geo.camera import Camera
from geo.crs import Projector
from geo.rank import Match

routes = web.RouteTableDef()
M = TypeVar("M", bound=BaseModel)


class CoveringQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(default=0.0, ge=0, le=100_000)
    engine: str = Field(default="index", pattern="^(index|postgis)$")


class NearbyQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    limit: int = Field(default=10, ge=1, le=500)
    within_m: float = Field(default=500.0, gt=0, le=100_000)


def _parse(model: type[M], request: web.Request) -> M:
    try:
        # access_token is a credential (browsers cannot set headers on every request), not a query field.
        return model.model_validate({k: v for k, v in request.query.items() if k != "access_token"})
    except ValidationError as exc:
        raise from_validation(exc) from None


def _answer(request: web.Request, matches: list[Match], name: str) -> web.Response:
    settings = request.app[SETTINGS]
    entries = [camera_entry(m, request.app[INDEX]) for m in matches]
    expires, expires_at = expiry(settings.feed_token_ttl_s)
    paths = feed_paths(entries)
    token = paths_token(settings.token_key, name, paths, expires) if paths else ""
    return respond({"cameras": with_feeds(entries, settings.media_gateway, token, expires_at)})


@routes.get("/v1/cameras/covering")
async def covering(request: web.Request) -> web.Response:
    """Cameras whose view sector intersects the disk (radius_m taken literally)."""
    viewer = guard.person(request, request.app[SETTINGS])
    query = _parse(CoveringQuery, request)
    live = request.app[INDEX]
    region = regions.circle(live.projector, query.lat, query.lon, query.radius_m, 0.5)
    if query.engine == "postgis":
        matches = await _postgis_covering(request, live, region)
    else:
        matches = live.index.covering(region)
    return _answer(request, matches, viewer.name)


async def _postgis_covering(request: web.Request, live: LiveIndex, region: regions.Region) -> list[Match]:
    async with connection(request.app[POOL]) as conn:
        rows = await postgis.covering(conn, region.x, region.y, live.projector.srid, region.radius_m or 0.0)
    matches = []
    for camera_id, distance, coverage in rows:
        camera = live.index.get(camera_id)
        if camera is not None:
            bearing = _true_bearing(live.projector, camera, region.x, region.y)
            matches.append(Match(camera, distance, bearing, True, coverage, aim(camera, bearing, distance)))
    return sorted(matches, key=lambda m: (-m.coverage, m.distance_m, m.camera.camera_id))


def _true_bearing(projector: Projector, camera: Camera, x: float, y: float) -> float:
    cx, cy = projector.to_metric(camera.lon, camera.lat)
    if (cx, cy) == (x, y):
        return 0.0
    grid = math.degrees(math.atan2(x - cx, y - cy))
    return (grid + projector.convergence_deg(camera.lon, camera.lat)) % 360.0


@routes.get("/v1/cameras/nearby")
async def nearby(request: web.Request) -> web.Response:
    """The nearest cameras by distance alone."""
    viewer = guard.person(request, request.app[SETTINGS])
    query = _parse(NearbyQuery, request)
    live = request.app[INDEX]
    x, y = live.projector.to_metric(query.lon, query.lat)
    matches = live.index.nearby(x, y, query.limit, query.within_m)
    return _answer(request, matches, viewer.name)
