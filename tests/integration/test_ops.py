"""Health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.helpers import call_body, console, next_frame, post, seed_cameras

Client = TestClient[Any, Any]
PHASES = ("parse", "match", "store", "fanout", "write")


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


async def test_a_pushed_call_is_timed_in_phases_that_add_up_to_its_push_time(client: Client) -> None:
    await seed_cameras(client)
    police = await console(client, "police")
    assert (await post(client, "/v1/calls", call_body("113-TIMED"))).status == 201
    assert (await next_frame(police))["type"] == "incident.opened"
    assert (await post(client, "/v1/calls", call_body("113-TIMED"))).status == 200  # a retry pushes nothing
    samples = {
        (sample.name, sample.labels.get("phase")): sample.value
        for family in text_string_to_metric_families(await (await client.get("/metrics")).text())
        for sample in family.samples
    }
    assert samples[("callsight_call_push_seconds_count", None)] == 1
    assert all(samples[("callsight_call_phase_seconds_count", phase)] == 1 for phase in PHASES)
    laps = [samples[("callsight_call_phase_seconds_sum", phase)] for phase in PHASES]
    assert all(lap > 0 for lap in laps)
    assert sum(laps) == pytest.approx(samples[("callsight_call_push_seconds_sum", None)])


async def test_the_consoles_gauge_counts_attached_connections(client: Client) -> None:
    police, fire = await console(client, "police"), await console(client, "fire")
    text = await (await client.get("/metrics")).text()
    gauge = next(f for f in text_string_to_metric_families(text) if f.name == "callsight_consoles")
    assert gauge.samples[0].value == 2
    await police.close()
    await fire.close()


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
