"""Operations: liveness, readiness, Prometheus metrics and the OpenAPI document."""

from __future__ import annotations

from aiohttp import web

from dispatch.context import INDEX, METRICS, POOL
from dispatch.jsonio import respond
from dispatch.openapi import document
from dispatch.storage import migrate
from dispatch.storage.db import UNAVAILABLE

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """The process is alive."""
    return respond({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """Ready when the database is reachable and migrated and the camera index is loaded."""
    problems = []
    try:
        async with request.app[POOL].acquire(timeout=2) as conn:
            version = await conn.fetchval("SELECT version_num FROM alembic_version")
        if version != migrate.head():
            problems.append(f"database at migration {version}, expected {migrate.head()}")
    except UNAVAILABLE as exc:
        problems.append(f"database unreachable: {exc}")
    index = request.app[INDEX]
    if not index.loaded:
        problems.append("camera index not loaded")
    body = {"status": "not ready" if problems else "ready", "cameras": len(index.index), "problems": problems}
    return respond(body, status=503 if problems else 200)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    registry = request.app[METRICS]
    pool = request.app[POOL]
    registry.pool_size.set(pool.get_size())
    registry.pool_idle.set(pool.get_idle_size())
    registry.cameras.set(len(request.app[INDEX].index))
    return registry.render()


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document, generated from the same pydantic models that validate requests."""
    return respond(document())
