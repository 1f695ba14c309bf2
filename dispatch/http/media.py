"""The media gateway's authorization hook (MediaMTX authHTTPAddress): 2xx allows a feed, 401 denies it."""

from __future__ import annotations

from urllib.parse import parse_qs

from aiohttp import web
from pydantic import ValidationError

from dispatch.api_models import MediaAuthIn
from dispatch.auth import guard, tokens
from dispatch.context import AUDITOR, POOL, SETTINGS
from dispatch.jsonio import loads
from dispatch.problems import Problem, unauthorized
from dispatch.storage import calls as call_store
from dispatch.storage.db import connection

routes = web.RouteTableDef()
READ_ACTIONS = {"read", "playback"}


def _token(ask: MediaAuthIn) -> str:
    if ask.token:
        return ask.token
    found = parse_qs(ask.query).get("token")
    return found[0] if found else ask.password


@routes.post("/v1/media/auth")
async def media_auth(request: web.Request) -> web.Response:
    """Allows reading a camera path only with a valid, unexpired feed token for that path."""
    settings = request.app[SETTINGS]
    body = await guard.read_body(request, settings.body_limit)
    try:
        ask = MediaAuthIn.model_validate(loads(body))
    except ValidationError:
        raise Problem(400, "Bad request", "Not a gateway authorization request.") from None
    if ask.action not in READ_ACTIONS:
        raise unauthorized(f"Action {ask.action!r} is not allowed through Callsight.")
    path = ask.path.strip("/")
    grant = tokens.verify_feed(settings.token_key, _token(ask))
    if not await _opens(request, grant, path):
        raise unauthorized("The feed token is not for this camera.")
    subject = {
        "camera_path": path,
        "ip": ask.ip,
        "protocol": ask.protocol,
        "gateway_id": ask.id,
    }
    reason = f"incident {grant.incident_id}" if grant.incident_id else None
    request.app[AUDITOR].record(grant.console, None, "feed.used", subject, reason)
    return web.Response(status=204)


async def _opens(request: web.Request, grant: tokens.FeedGrant, path: str) -> bool:
    # An incident's token opens the cameras the incident lists now: one dropped by a later fix closes.
    if grant.paths is not None:
        return path in grant.paths
    assert grant.incident_id is not None
    async with connection(request.app[POOL]) as conn:
        return path in await call_store.feed_paths(conn, grant.incident_id)
