"""Health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]


async def test_health_and_ready(client: Client) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["status"] == "ready"


async def test_metrics_count_requests_per_route(client: Client) -> None:
    await client.get("/healthz")
    text = await (await client.get("/metrics")).text()
    assert 'callsight_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "callsight_db_pool_size" in text


async def test_openapi_lists_every_endpoint_with_schemas(client: Client) -> None:
    doc = await (await client.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    assert {"/v1/calls", "/v1/cameras/{camera_id}", "/v1/cameras/import"} <= set(doc["paths"])
    camera_in = doc["components"]["schemas"]["CameraIn"]
    assert "camera_id" in camera_in["properties"]


async def test_unknown_route_is_a_problem(client: Client) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status == 404
    assert response.content_type == "application/problem+json"


async def test_every_answer_carries_security_headers(client: Client) -> None:
    for path in ("/healthz", "/v1/nothing-here", "/v1/cameras/X"):
        response = await client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
