"""The telephony webhook: calls, later fixes, closes, and reading an incident."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from dispatch.access import receives_hotline
from dispatch.api_models import CallIn, CloseIn, LocationUpdateIn
from dispatch.auth import guard
from dispatch.auth.tokens import Principal
from dispatch.calls.feeds import expiry, incident_token
from dispatch.calls.pipeline import Pipeline, incident_fields
from dispatch.calls.privacy import lookup_hashes
from dispatch.context import AUDITOR, PIPELINE, POLICY, SETTINGS
from dispatch.frames import allowed as allowed_detections
from dispatch.frames import feed_paths, with_feeds
from dispatch.ingest.model import LocationError
from dispatch.jsonio import loads, respond
from dispatch.metrics import ARRIVED
from dispatch.problems import Problem, from_validation, invalid, unavailable
from dispatch.settings import Settings
from dispatch.storage import calls as call_store
from dispatch.storage.calls import CallNotFound, StoredCall
from dispatch.storage.db import StorageUnavailable, connection

routes = web.RouteTableDef()
Model = TypeVar("Model", bound=BaseModel)


async def _signed_body(request: web.Request, model: type[Model]) -> Model:
    settings = request.app[SETTINGS]
    body = await guard.read_body(request, settings.body_limit)
    guard.require_sender(request, body, settings)
    try:
        return model.model_validate(loads(body))
    except ValidationError as exc:
        raise from_validation(exc) from None


def incident_view(
    stored: StoredCall, viewer: Principal, settings: Settings, detections: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The incident with feed URLs signed for this viewer (senders get cameras and no detections)."""
    expires, expires_at = expiry(settings.feed_token_ttl_s)
    paths = feed_paths(stored.cameras)
    token = incident_token(settings.token_key, viewer.name, stored.incident_id, expires) if paths else ""
    view = incident_fields(stored)
    view["cameras"] = with_feeds(stored.cameras, settings.media_gateway, token, expires_at)
    view["detections"] = detections or []
    return view


def _disclosed(
    request: web.Request,
    stored: StoredCall,
    viewer: Principal,
    detections: list[dict[str, Any]] | None = None,
    viewed: bool = False,
) -> dict[str, Any]:
    """The incident for this viewer, with an audit row for the view and for the feed token it carries."""
    view = incident_view(stored, viewer, request.app[SETTINGS], detections)
    auditor = request.app[AUDITOR]
    agency = None if viewer.is_sender else viewer.role
    subject: dict[str, Any] = {
        "call_id": stored.call_id,
        "incident_id": str(stored.incident_id),
        "token_id": viewer.token_id,
    }
    reason = f"incident {stored.incident_id}"
    if viewed:
        shown = [d["detection_id"] for d in view["detections"]]
        auditor.record(viewer.name, agency, "call.viewed", {**subject, "detections": shown}, reason)
    paths = feed_paths(stored.cameras)
    if paths:
        auditor.record(viewer.name, agency, "feed.granted", {**subject, "cameras": paths}, reason)
    return view


async def _run(request: web.Request, step: Any, *args: Any) -> Any:
    try:
        return await step(*args)
    except LocationError as exc:
        raise invalid([{"field": f"location.{exc.field}".rstrip("."), "message": exc.message}]) from None
    except CallNotFound:
        raise Problem(
            404,
            "Call not found",
            f"No call {request.match_info.get('call_id')!r} was received.",
            slug="call-not-found",
        ) from None
    except StorageUnavailable:
        raise unavailable("The database cannot commit right now; retry.") from None


@routes.post("/v1/calls")
async def post_call(request: web.Request) -> web.Response:
    """A new call (201) or a repeat of one (200), answered after COMMIT."""
    call = await _signed_body(request, CallIn)
    pipeline: Pipeline = request.app[PIPELINE]
    stored, created = await _run(request, pipeline.receive, call, request.get(ARRIVED))
    viewer = Principal(request.headers["X-Callsight-Sender"], "sender")
    return respond(_disclosed(request, stored, viewer), status=201 if created else 200)


@routes.post("/v1/calls/{call_id}/locations")
async def post_location(request: web.Request) -> web.Response:
    """A later fix for a call."""
    update = await _signed_body(request, LocationUpdateIn)
    stored = await _run(request, request.app[PIPELINE].relocate, request.match_info["call_id"], update)
    viewer = Principal(request.headers["X-Callsight-Sender"], "sender")
    return respond(_disclosed(request, stored, viewer))


@routes.post("/v1/calls/{call_id}/close")
async def post_close(request: web.Request) -> web.Response:
    """The call has ended."""
    body = await _signed_body(request, CloseIn)
    stored = await _run(request, request.app[PIPELINE].close, request.match_info["call_id"], body)
    viewer = Principal(request.headers["X-Callsight-Sender"], "sender")
    return respond(_disclosed(request, stored, viewer))


@routes.get("/v1/calls")
async def calls_by_caller(request: web.Request) -> web.Response:
    """Open incidents of one caller number (`?caller_number=`), those the viewer's role receives."""
    settings = request.app[SETTINGS]
    viewer = guard.person(request, settings)
    number = request.query.get("caller_number", "")
    if not any(ch.isdigit() for ch in number) or len(number) > 32:
        raise invalid([{"field": "caller_number", "message": "give the caller's phone number"}])
    async with connection(request.app[PIPELINE].pool) as conn:
        found = await call_store.open_by_caller(conn, lookup_hashes(settings.caller_keys, number))
    mine = [c for c in found if receives_hotline(viewer.role, c.hotline)]
    return respond({"incidents": [_disclosed(request, c, viewer, viewed=True) for c in mine]})


@routes.get("/v1/calls/{call_id}")
async def get_call(request: web.Request) -> web.Response:
    """The incident, if the viewer's role receives its hotline (signed senders see all)."""
    settings = request.app[SETTINGS]
    viewer = guard.caller(request, b"", settings)
    stored, detections = await _run(request, _fetch, request.app[PIPELINE], request.match_info["call_id"])
    allowed = viewer.is_sender or receives_hotline(viewer.role, stored.hotline)
    if not allowed or (viewer.areas and stored.area not in viewer.areas):
        raise Problem(403, "Forbidden", "This role does not receive this call.")
    shown = [] if viewer.is_sender else allowed_detections(request.app[POLICY], viewer.role, detections)
    return respond(_disclosed(request, stored, viewer, shown, viewed=True))


async def _fetch(pipeline: Pipeline, call_id: str) -> tuple[StoredCall, list[dict[str, Any]]]:
    async with connection(pipeline.pool) as conn:
        stored = await call_store.get(conn, call_id)
        return stored, await pipeline.recent(conn, stored)
