"""Typed keys for what the application holds: created and torn down in dispatch/app.py's cleanup contexts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
from aiohttp import web

from dispatch.detections.policy import Policy
from dispatch.settings import Settings

if TYPE_CHECKING:
    from dispatch.audit.writer import Auditor
    from dispatch.calls.pipeline import Pipeline
    from dispatch.camera_index import LiveIndex
    from dispatch.hub import Hub
    from dispatch.metrics import Metrics

SETTINGS = web.AppKey("settings", Settings)
POLICY = web.AppKey("policy", Policy)
# Revoked console token ids, loaded at start and kept current through LISTEN.
REVOKED: web.AppKey[set[str]] = web.AppKey("revoked")
POOL = web.AppKey("pool", asyncpg.Pool)
BACKENDS: web.AppKey[set[int]] = web.AppKey("backends")  # server process ids of the pool's connections
INDEX: web.AppKey[LiveIndex] = web.AppKey("index")
HUB: web.AppKey[Hub] = web.AppKey("hub")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
PIPELINE: web.AppKey[Pipeline] = web.AppKey("pipeline")
AUDITOR: web.AppKey[Auditor] = web.AppKey("auditor")
