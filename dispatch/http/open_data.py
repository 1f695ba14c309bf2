"""The public open-data API: public cameras as GeoJSON, per-key rate limits, off by default.

Separate from the dispatch API: no streams, no detections, no calls, and its own credential (API keys).
"""

from __future__ import annotations

import hashlib
import hmac
import time

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dispatch.context import POOL, SETTINGS
from dispatch.jsonio import respond
from dispatch.problems import Problem, from_validation, unauthorized
from dispatch.storage import access as access_store
from dispatch.storage.db import connection

routes = web.RouteTableDef()
BUCKETS = web.AppKey("open_data_buckets", dict[str, tuple[float, float]])
_PAGE = """
SELECT camera_id, name, lat, lon, kind, heading_deg, fov_deg, range_m, area, owner
FROM cameras WHERE public AND camera_id > $1 ORDER BY camera_id LIMIT $2
"""


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=100, ge=1, le=1000)
    after: str = Field(default="", max_length=128)


def secret_hash(secret: str) -> str:
    """How a key's secret is stored: never in clear."""
    return hashlib.sha256(secret.encode()).hexdigest()


async def _key_id(request: web.Request) -> str:
    presented = request.headers.get("X-API-Key") or request.query.get("api_key", "")
    key_id, _, secret = presented.partition(".")
    if not key_id or not secret:
        raise unauthorized("Present an API key (X-API-Key: ID.SECRET).")
    async with connection(request.app[POOL]) as conn:
        stored = await access_store.key_hash(conn, key_id)
    if stored is None or not hmac.compare_digest(stored, secret_hash(secret)):
        raise unauthorized("The API key is not valid.")
    return key_id


def _take(request: web.Request, key_id: str) -> None:
    # A token bucket per key: `rate` requests a minute, bursts up to that many.
    rate = float(request.app[SETTINGS].open_data_rate)
    buckets = request.app[BUCKETS]
    now = time.monotonic()
    tokens, last = buckets.get(key_id, (rate, now))
    tokens = min(rate, tokens + (now - last) * rate / 60.0)
    if tokens < 1.0:
        wait = int((1.0 - tokens) * 60.0 / rate) + 1
        raise Problem(
            429,
            "Too many requests",
            f"At most {int(rate)} requests a minute per key.",
            headers={"Retry-After": str(wait)},
        )
    buckets[key_id] = (tokens - 1.0, now)


def _feature(row: asyncpg.Record) -> dict[str, object]:
    properties = {
        k: row[k] for k in ("camera_id", "name", "kind", "heading_deg", "fov_deg", "range_m", "area", "owner")
    }
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
        "properties": properties,
    }


@routes.get("/open/v1/cameras")
async def open_cameras(request: web.Request) -> web.Response:
    """Public cameras as a GeoJSON FeatureCollection, paged by camera id (`after`, `limit`)."""
    key_id = await _key_id(request)
    _take(request, key_id)
    try:
        page = Page.model_validate(_page_query(request))
    except ValidationError as exc:
        raise from_validation(exc) from None
    async with connection(request.app[POOL]) as conn:
        rows = await conn.fetch(_PAGE, page.after, page.limit)
    body: dict[str, object] = {"type": "FeatureCollection", "features": [_feature(r) for r in rows]}
    if len(rows) == page.limit:
        body["next"] = f"/open/v1/cameras?limit={page.limit}&after={rows[-1]['camera_id']}"
    return respond(body)


def _page_query(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in request.query.items() if k != "api_key"}


def enable(app: web.Application) -> None:
    """Adds the open-data routes (only when the setting turns them on)."""
    app[BUCKETS] = {}
    app.add_routes(routes)
