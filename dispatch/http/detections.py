"""The camera-analytics webhook: one detection (all or nothing) or a batch (each item on its own)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web

from dispatch.auth import guard
from dispatch.context import INDEX, POOL, SETTINGS
from dispatch.detections.hook import DETECTIONS_HOOK
from dispatch.detections.model import MAX_BATCH, DetectionIn, camera_ids, check, to_record, validate_batch
from dispatch.jsonio import loads, respond
from dispatch.problems import Problem, invalid, unavailable
from dispatch.storage import cameras as camera_store
from dispatch.storage import detections as detection_store
from dispatch.storage.db import StorageUnavailable, connection

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


@contextlib.asynccontextmanager
async def _storage() -> AsyncIterator[None]:
    """Database trouble becomes a 503 so that the sender retries; nothing unstored is acknowledged."""
    try:
        yield
    except StorageUnavailable:
        raise unavailable("The database cannot commit right now; retry.") from None


async def _known_cameras(request: web.Request, conn: asyncpg.Connection, items: list[object]) -> set[str]:
    """The registered cameras among those the items name."""
    named = camera_ids(items)
    # The live index holds every registered camera (this instance's writes at once, other instances' within
    # milliseconds): only the ids it lacks are looked up, usually none, which saves a round trip per batch.
    # A camera just deleted elsewhere may pass for those milliseconds, as between a lookup and an insert.
    indexed = request.app[INDEX].records
    missing = sorted(camera for camera in named if camera not in indexed)
    found = await camera_store.existing_ids(conn, missing) if missing else set()
    return named.difference(missing) | found


async def _announce(request: web.Request, new: list[DetectionIn]) -> None:
    """Hands new detections to the hub, if one is wired; they are stored already, so a failure only logs."""
    hook = request.app.get(DETECTIONS_HOOK)
    if hook is None or not new:
        return
    try:
        await hook(new)
    except Exception:
        # Failing now would make the sender retry, and a retry is a duplicate that is never pushed.
        log.exception("detections stored but not pushed to consoles (%d)", len(new))


def _batch_items(payload: dict[str, Any]) -> list[object]:
    """The batch's items, or 422 when the envelope itself is wrong."""
    extra = sorted(set(payload) - {"detections"})
    if extra:
        raise invalid([{"field": name, "message": f"unexpected field '{name}'"} for name in extra])
    items = payload["detections"]
    if not isinstance(items, list) or not items:
        raise invalid([{"field": "detections", "message": "detections must be a non-empty list"}])
    if len(items) > MAX_BATCH:
        raise invalid(
            [
                {
                    "field": "detections",
                    "message": f"{len(items)} detections; a batch holds at most {MAX_BATCH}, split it",
                }
            ]
        )
    return items


async def _post_batch(request: web.Request, payload: dict[str, Any]) -> web.Response:
    items = _batch_items(payload)
    # One connection for the lookup and the insert; the insert is one statement and commits on its own.
    async with _storage(), connection(request.app[POOL]) as conn:
        known = await _known_cameras(request, conn, items)
        valid, rejected = validate_batch(items, known, datetime.now(UTC))
        if not valid:
            errors = [{"field": f"detections.{r['index']}", "message": r["reason"]} for r in rejected]
            raise invalid(errors, "No detection in the batch is valid; nothing was stored.")
        new = await detection_store.insert_new(conn, valid)
    await _announce(request, new)
    return respond({"accepted": len(new), "duplicates": len(valid) - len(new), "rejected": rejected})


async def _post_one(request: web.Request, payload: object) -> web.Response:
    async with _storage(), connection(request.app[POOL]) as conn:
        known = await _known_cameras(request, conn, [payload])
        detection, issues = check(payload, known, datetime.now(UTC))
        if detection is None:
            raise invalid(issues, "The detection has invalid fields; nothing was stored.")
        new = await detection_store.insert_new(conn, [detection])
        # A retry is answered with what was stored first, even if the retry's fields differ.
        stored = None if new else await detection_store.get(conn, detection.detection_id)
    await _announce(request, new)
    return respond(stored or to_record(detection), status=201 if new else 200)


@routes.post("/v1/detections")
async def post_detections(request: web.Request) -> web.Response:
    """One detection (201 new, 200 repeat) or a batch {"detections": [...]} (200: counts and rejections)."""
    settings = request.app[SETTINGS]
    # Read up to the batch limit: only the parsed body tells a batch from a single detection.
    body = await guard.read_body(request, settings.batch_body_limit)
    guard.require_sender(request, body, settings)
    payload = loads(body)
    if isinstance(payload, dict) and "detections" in payload:
        return await _post_batch(request, payload)
    if len(body) > settings.body_limit:
        raise Problem(
            413,
            "Body too large",
            f"A single detection is limited to {settings.body_limit} bytes.",
            slug="too-large",
        )
    return await _post_one(request, payload)
