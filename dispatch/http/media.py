"""The media gateway's authorization hook (MediaMTX authHTTPAddress): 2xx allows a feed, 401 denies it."""

from __future__ import annotations

from urllib.parse import parse_qs

from aiohttp import web
from pydantic import ValidationError

from dispatch.api_models import MediaAuthIn
from dispatch.auth import guard, tokens
from dispatch.context import AUDITOR, SETTINGS
from dispatch.jsonio import loads
from dispatch.problems import Problem, unauthorized

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
    console = tokens.verify_feed(settings.token_key, _token(ask), ask.path.strip("/"))
    subject = {
        "camera_path": ask.path.strip("/"),
        "ip": ask.ip,
        "protocol": ask.protocol,
        "gateway_id": ask.id,
    }
    request.app[AUDITOR].record(console, None, "feed.used", subject, None)
    return web.Response(status=204)
