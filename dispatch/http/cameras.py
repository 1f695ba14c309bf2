"""Camera registry endpoints: PUT/GET/DELETE one camera, bulk import, status heartbeats."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from dispatch.api_models import StatusIn
from dispatch.auth import guard
from dispatch.cameras.derive import resolve
from dispatch.cameras.importer import ImportFormatError, TypeDefaults, parse_import
from dispatch.cameras.model import CameraIn
from dispatch.cameras.registry import write
from dispatch.context import INDEX, POOL, SETTINGS
from dispatch.jsonio import loads, respond
from dispatch.problems import Problem, from_validation, invalid
from dispatch.storage import cameras as camera_store
from dispatch.storage.db import connection, transaction
from geo.errors import GeoError

routes = web.RouteTableDef()


def _not_found(camera_id: str) -> Problem:
    return Problem(
        404, "Camera not found", f"No camera {camera_id!r} is registered.", slug="camera-not-found"
    )


@routes.put("/v1/cameras/{camera_id}")
async def put_camera(request: web.Request) -> web.Response:
    """Creates (201) or replaces (200) one camera."""
    settings = request.app[SETTINGS]
    body = await guard.read_body(request, settings.body_limit)
    guard.require_writer(request, body, settings)
    data = loads(body)
    if not isinstance(data, dict):
        raise invalid([{"field": "", "message": "the body must be a JSON object"}])
    data.setdefault("camera_id", request.match_info["camera_id"])
    if data["camera_id"] != request.match_info["camera_id"]:
        raise invalid([{"field": "camera_id", "message": "must match the camera id in the path"}])
    try:
        record = resolve(CameraIn.model_validate(data))
    except GeoError as exc:
        raise invalid([{"field": exc.field, "message": exc.message}]) from None
    live = request.app[INDEX]
    created, _ = await write(request.app[POOL], live.projector, [record])
    live.put(record)
    return respond(record.model_dump(), status=201 if created else 200)


@routes.get("/v1/cameras/{camera_id}")
async def get_camera(request: web.Request) -> web.Response:
    """One camera."""
    guard.person(request, request.app[SETTINGS])
    camera_id = request.match_info["camera_id"]
    async with connection(request.app[POOL]) as conn:
        record = await camera_store.get(conn, camera_id)
    if record is None:
        raise _not_found(camera_id)
    return respond(record.model_dump())


@routes.delete("/v1/cameras/{camera_id}")
async def delete_camera(request: web.Request) -> web.Response:
    """Removes one camera (204), 404 when absent."""
    settings = request.app[SETTINGS]
    body = await guard.read_body(request, settings.body_limit)
    guard.require_writer(request, body, settings)
    camera_id = request.match_info["camera_id"]
    async with transaction(request.app[POOL]) as conn:
        if not await camera_store.delete(conn, camera_id):
            raise _not_found(camera_id)
    request.app[INDEX].drop(camera_id)
    return web.Response(status=204)


@routes.post("/v1/cameras/{camera_id}/status")
async def camera_status(request: web.Request) -> web.Response:
    """A heartbeat from the video system: online or offline."""
    settings = request.app[SETTINGS]
    body = await guard.read_body(request, settings.body_limit)
    guard.require_writer(request, body, settings)
    camera_id = request.match_info["camera_id"]
    try:
        status = StatusIn.model_validate(loads(body)).status
    except ValidationError as exc:
        raise from_validation(exc) from None
    async with transaction(request.app[POOL]) as conn:
        if not await camera_store.set_status(conn, camera_id, status):
            raise _not_found(camera_id)
    live = request.app[INDEX]
    if camera_id in live.records:
        live.put(live.records[camera_id].model_copy(update={"status": status}))
    return respond({"camera_id": camera_id, "status": status})


@routes.post("/v1/cameras/import")
async def import_cameras(request: web.Request) -> web.Response:
    """Bulk import of GeoJSON (our fields or OSM tags) or CSV; ?all_or_nothing=true is all or nothing."""
    settings = request.app[SETTINGS]
    body = await guard.read_body(request, settings.import_body_limit)
    guard.require_writer(request, body, settings)
    try:
        batch = parse_import(body, request.content_type, TypeDefaults())
    except ImportFormatError as exc:
        raise Problem(400, "Unreadable import", str(exc), slug="unreadable-import") from None
    rejected = [item.model_dump() for item in batch.rejected]
    if request.query.get("all_or_nothing", "").lower() in {"1", "true", "yes"} and rejected:
        return respond({"created": 0, "updated": 0, "rejected": rejected}, status=422)
    records = [resolve(record) for _, record in batch.cameras]
    created, updated = await write(request.app[POOL], request.app[INDEX].projector, records)
    for record in records:
        request.app[INDEX].put(record)
    return respond({"created": created, "updated": updated, "rejected": rejected})
