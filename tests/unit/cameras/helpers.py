"""Shared helpers of the camera import tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from dispatch.cameras.importer import ImportBatch, Rejection, parse_import
from dispatch.cameras.model import CameraIn

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "cameras"


def parse_json(doc: Any) -> ImportBatch:
    """Parse a JSON document as the import endpoint would."""
    return parse_import(orjson.dumps(doc), "application/geo+json")


def feature(props: dict[str, Any], coords: list[Any] | None = None) -> dict[str, Any]:
    """A Point feature (at Ben Thanh unless told) with the given properties."""
    geometry = {"type": "Point", "coordinates": coords or [106.698, 10.7725]}
    return {"type": "Feature", "geometry": geometry, "properties": props}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    """A FeatureCollection of the given features."""
    return {"type": "FeatureCollection", "features": list(features)}


def by_id(batch: ImportBatch) -> dict[str, CameraIn]:
    """The accepted cameras by id."""
    return {camera.camera_id: camera for _, camera in batch.cameras}


def only_rejection(batch: ImportBatch) -> Rejection:
    """The one rejection of a batch that must have exactly one and no cameras."""
    assert batch.cameras == []
    assert len(batch.rejected) == 1, batch.rejected
    return batch.rejected[0]
