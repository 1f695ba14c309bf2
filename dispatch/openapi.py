"""The OpenAPI 3.1 document, built from the pydantic models that validate requests and shape answers."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from dispatch import api_models as m
from dispatch.cameras.model import CameraIn, CameraOut

Security = list[dict[str, list[str]]]
SIGNED: Security = [{"signedSender": []}]
TOKEN: Security = [{"bearer": []}]
EITHER: Security = [{"signedSender": []}, {"bearer": []}]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    security: list[dict[str, list[str]]]
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    query: tuple[str, ...] = ()


OPERATIONS = (
    Operation(
        "post",
        "/v1/calls",
        "A new call, or a repeat of one (idempotent on call_id)",
        SIGNED,
        m.CallIn,
        m.Incident,
        201,
    ),
    Operation(
        "get", "/v1/calls/{call_id}", "The incident as the caller's role may see it", EITHER, None, m.Incident
    ),
    Operation(
        "post",
        "/v1/calls/{call_id}/locations",
        "A later location fix",
        SIGNED,
        m.LocationUpdateIn,
        m.Incident,
    ),
    Operation("post", "/v1/calls/{call_id}/close", "The call has ended", SIGNED, m.CloseIn, m.Incident),
    Operation(
        "put", "/v1/cameras/{camera_id}", "Create or replace a camera", EITHER, CameraIn, CameraOut, 201
    ),
    Operation("get", "/v1/cameras/{camera_id}", "One camera", TOKEN, None, CameraOut),
    Operation("delete", "/v1/cameras/{camera_id}", "Remove a camera", EITHER, None, None, 204),
    Operation("post", "/v1/cameras/{camera_id}/status", "Camera heartbeat", EITHER, m.StatusIn, m.StatusOut),
    Operation(
        "post", "/v1/cameras/import", "Bulk import (GeoJSON, OSM tags, CSV)", EITHER, None, m.ImportResult
    ),
    Operation(
        "get",
        "/v1/cameras/covering",
        "Cameras whose view covers a disk",
        TOKEN,
        None,
        m.CameraList,
        query=("lat", "lon", "radius_m", "engine"),
    ),
    Operation(
        "get",
        "/v1/cameras/nearby",
        "Nearest cameras",
        TOKEN,
        None,
        m.CameraList,
        query=("lat", "lon", "limit", "within_m"),
    ),
    Operation(
        "post", "/v1/media/auth", "Media gateway authorization hook (MediaMTX)", [], m.MediaAuthIn, None
    ),
    Operation("get", "/healthz", "Process alive", [], None, None),
    Operation("get", "/readyz", "Database migrated and index loaded", [], None, None),
    Operation("get", "/metrics", "Prometheus metrics", [], None, None),
)


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params = [
        {"name": name[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for name in op.path.split("/")
        if name.startswith("{")
    ]
    params += [
        {"name": name, "in": "query", "required": name in {"lat", "lon"}, "schema": {"type": "string"}}
        for name in op.query
    ]
    return params


def _operation(op: Operation, refs: dict[str, Any]) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    answer: dict[str, Any] = {"description": "Success"}
    if op.response is not None:
        answer["content"] = {"application/json": {"schema": refs[op.response.__name__]}}
    spec: dict[str, Any] = {
        "summary": op.summary,
        "security": op.security,
        "parameters": _parameters(op),
        "responses": {str(op.status): answer, "4XX": {"description": "Problem", "content": problem}},
    }
    if op.request is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[op.request.__name__]}},
        }
    return spec


@functools.cache
def document() -> dict[str, Any]:
    """The whole document (built once)."""
    models = {model for op in OPERATIONS for model in (op.request, op.response) if model is not None}
    keys, defs = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda x: x.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    refs = {model.__name__: ref for (model, _), ref in keys.items()}
    schemas = dict(defs.get("$defs", {}))
    schemas["Problem"] = m.Problem.model_json_schema()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Callsight", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "signedSender": {"type": "apiKey", "in": "header", "name": "X-Callsight-Signature"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }
