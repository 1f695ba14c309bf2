"""The console WebSocket: authenticate before the upgrade, then subscribe/resume and pushed frames."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

import orjson
from aiohttp import WSMsgType, web
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from dispatch.access import Subscription
from dispatch.auth import guard
from dispatch.context import HUB, SETTINGS
from dispatch.hub import Hub
from dispatch.problems import unavailable
from dispatch.streams import Connection, Stream

routes = web.RouteTableDef()
log = logging.getLogger(__name__)


class Subscribe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["subscribe"]
    hotlines: list[Literal["113", "114", "115"]] = Field(default_factory=list)
    areas: list[str] = Field(default_factory=list, max_length=500)


class Resume(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["resume"]
    after_seq: int = Field(ge=0)
    after_event_id: int | None = Field(default=None, ge=0)


ConsoleMessage = TypeAdapter(Annotated[Subscribe | Resume, Field(discriminator="type")])


@routes.get("/v1/consoles/ws")
async def console_socket(request: web.Request) -> web.WebSocketResponse:
    """Upgrades only a valid console token (401 otherwise) and serves the console until it leaves."""
    settings = request.app[SETTINGS]
    principal = guard.person(request, settings)
    hub = request.app[HUB]
    if hub.connected >= settings.max_consoles:
        raise unavailable(
            f"This instance serves {settings.max_consoles} consoles at most; retry or use another."
        )
    ws = web.WebSocketResponse(compress=settings.ws_compress, heartbeat=None, max_msg_size=64 * 1024)
    await ws.prepare(request)
    if request.transport is None:
        return ws  # the console left during the upgrade
    stream, conn = hub.attach(principal, ws, request.transport)
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await _handle(hub, stream, conn, message.data)
    finally:
        hub.detach(stream, conn)
    return ws


async def _handle(hub: Hub, stream: Stream, conn: Connection, text: str) -> None:
    try:
        message = ConsoleMessage.validate_python(orjson.loads(text))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        conn.offer(orjson.dumps({"type": "error", "seq": stream.seq, "detail": str(exc)[:500]}))
        return
    if isinstance(message, Subscribe):
        stream.subscribe(Subscription(frozenset(message.hotlines), frozenset(message.areas)))
        await hub.resumes.start(stream, conn)
    else:
        await hub.resumes.resume(stream, conn, message.after_seq, message.after_event_id)
