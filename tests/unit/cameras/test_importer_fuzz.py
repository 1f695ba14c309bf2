"""Whatever the bytes, the importer answers with a batch or ImportFormatError, never another exception."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.cameras.importer import ImportFormatError, parse_import

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
_keys = st.sampled_from(
    [
        "camera_id",
        "lat",
        "lon",
        "x",
        "y",
        "crs",
        "heading_deg",
        "fov_deg",
        "kind",
        "tags",
        "streams",
        "man_made",
        "direction",
        "camera:direction",
        "camera:type",
        "height",
        "ref",
        "@id",
        "id",
        "surveillance:type",
        "type",
    ]
)
_props = st.dictionaries(
    _keys, _json | st.sampled_from(["surveillance", "SW;NE", "EPSG:9210", "panning", "6 m"])
)
_geometry = st.none() | _json | st.fixed_dictionaries({"type": st.just("Point"), "coordinates": _json})
_feature = st.fixed_dictionaries(
    {"type": st.just("Feature"), "geometry": _geometry, "properties": _props | _json}
)


def _parse(data: bytes, content_type: str) -> None:
    try:
        batch = parse_import(data, content_type)
    except ImportFormatError:
        return
    for index, camera in batch.cameras:
        assert isinstance(index, int) and camera.lat is not None and camera.lon is not None
    assert all(rejection.reason for rejection in batch.rejected)


@settings(max_examples=300, deadline=None)
@given(st.lists(_feature | _json, max_size=4))
def test_any_features(features: list[Any]) -> None:
    _parse(orjson.dumps({"type": "FeatureCollection", "features": features}), "application/geo+json")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.dictionaries(st.sampled_from(["type", "id", "lat", "lon", "tags", "center"]), _json | _props))
)
def test_any_overpass_elements(elements: list[Any]) -> None:
    _parse(orjson.dumps({"elements": elements}), "application/json")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_csv_text(text: str) -> None:
    _parse(("camera_id,lat,lon,tags,tag:x,path,connected\n" + text).encode(), "text/csv")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes(data: bytes) -> None:
    _parse(data, "")
