"""The seam through which newly stored detections reach the console hub (wired in by the application)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from dispatch.detections.model import DetectionIn

DetectionsHook = Callable[[list[DetectionIn]], Awaitable[None]]
# Called after COMMIT with the detections that were new (never with retried duplicates).
DETECTIONS_HOOK: web.AppKey[DetectionsHook] = web.AppKey("detections_hook")
