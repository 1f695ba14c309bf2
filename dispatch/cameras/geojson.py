"""GeoJSON (and Overpass JSON) documents read into raw camera records, and records written as features."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import orjson

from dispatch.cameras import osm
from dispatch.cameras.errors import ImportFormatError, ItemError
from dispatch.cameras.json_chunks import Unsplittable, feature_chunks
from dispatch.cameras.model import CameraIn

Record = dict[str, Any]
Item = tuple[int, Record | ItemError]


def read_json(data: bytes) -> Iterator[Item]:
    """Items of a JSON document: a FeatureCollection a few megabytes at a time, anything else parsed whole."""
    chunks = feature_chunks(data)
    return read_document(load_json(data)) if chunks is None else _read_chunks(data, chunks)


def _read_chunks(data: bytes, chunks: Iterator[list[Any]]) -> Iterator[Item]:
    done = 0
    try:
        for features in chunks:
            yield from _read_features(features, done)
            done += len(features)
    except Unsplittable:
        # A syntax error, or features laid out in a way the cuts miss: the whole document tells which.
        yield from (item for item in read_document(load_json(data)) if item[0] >= done)


def load_json(data: bytes) -> Any:
    """The parsed document; ImportFormatError, with the line and column, when it is not JSON."""
    try:
        # orjson refuses a byte order mark; a memoryview skips it without copying the file.
        return orjson.loads(memoryview(data)[3:] if data.startswith(b"\xef\xbb\xbf") else data)
    except orjson.JSONDecodeError as err:
        where = f"line {err.lineno} column {err.colno}"
        raise ImportFormatError(f"not valid JSON (UTF-8): {err.msg} at {where}") from None


def read_document(doc: Any) -> Iterator[Item]:
    """Items of a FeatureCollection, a Feature or Overpass JSON, by position (empties the features list)."""
    if not isinstance(doc, Mapping):
        raise ImportFormatError("expected a GeoJSON FeatureCollection object at the top level")
    kind = doc.get("type")
    if kind == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise ImportFormatError("the FeatureCollection has no `features` list")
        return _read_features(features)
    if kind == "Feature":
        return _read_features([doc])
    if isinstance(doc.get("elements"), list):
        return _read_elements(doc)
    raise ImportFormatError(f"expected a GeoJSON FeatureCollection, got type {kind!r}")


def _read_features(features: list[Any], first: int = 0) -> Iterator[Item]:
    # As _items, written out: a million features spent a sixth of their reading in its calls.
    for at, feature in enumerate(features):
        features[at] = None  # let each parsed feature go once read: their records take its place
        try:
            records = _feature_records(feature)
        except ItemError as err:
            yield first + at, err
            continue
        for record in records:
            yield first + at, record


def _read_elements(doc: Mapping[str, Any]) -> Iterator[Item]:
    for index, tags, osm_id, point in osm.elements(doc):
        yield from _items(index, osm.records, tags, osm_id, point)


def _items(index: int, build: Callable[..., list[Record]], *args: Any) -> list[Item]:
    """The records one element gives, or its rejection: one bad element never stops the file."""
    try:
        return [(index, record) for record in build(*args)]
    except ItemError as err:
        return [(index, err)]


def _feature_records(feature: Any) -> list[Record]:
    # `type(...) is dict` first: an isinstance check against an ABC is slow enough to count per feature.
    if (
        not (type(feature) is dict or isinstance(feature, Mapping))
        or feature.get("type", "Feature") != "Feature"
    ):
        raise ItemError("not a GeoJSON Feature object")
    props = feature.get("properties") or {}
    if not (type(props) is dict or isinstance(props, Mapping)):
        raise ItemError("properties: not an object")
    if osm.is_osm(props):
        tags, osm_id = osm.unwrap(props, feature.get("id"))
        return osm.records(tags, osm_id, _point_or_none(feature, osm.camera_id_of(tags, osm_id)))
    camera_id = props.get("camera_id")
    record = dict(props)
    if None in record.values():  # null is "not given", so that defaults apply
        record = {key: value for key, value in props.items() if value is not None}
    point = _point_or_none(feature, camera_id if isinstance(camera_id, str) else None)
    if point is not None:
        record["lon"], record["lat"] = point
    return [record]


def _point_or_none(feature: Mapping[str, Any], camera_id: str | None) -> tuple[float, float] | None:
    try:
        return point_of(feature.get("geometry"))
    except ItemError as err:
        raise ItemError(err.reason, camera_id) from None


def point_of(geometry: Any) -> tuple[float, float] | None:
    """(lon, lat) of a Point geometry; None for no geometry; ItemError for any other shape."""
    if geometry is None:
        return None
    fast = type(geometry) is dict and geometry.get("type") == "Point" and geometry.get("coordinates")
    if type(fast) is list and len(fast) == 2 and type(fast[0]) is type(fast[1]) is float:
        return fast[0], fast[1]  # the common case, without the general checks below
    if not isinstance(geometry, Mapping):
        raise ItemError("geometry: not a GeoJSON geometry object")
    if geometry.get("type") != "Point":
        kind = geometry.get("type")
        raise ItemError(f"geometry: not a Point (got {kind!r}); a camera is a Point [lon, lat]")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) not in (2, 3) or not all(map(osm.is_number, coords)):
        raise ItemError(f"geometry: Point coordinates must be [lon, lat] numbers (got {coords!r})")
    return float(coords[0]), float(coords[1])


def to_feature(camera: CameraIn) -> dict[str, Any]:
    """A registry record as a GeoJSON Feature: Point [lon, lat] plus every other field as properties."""
    props = camera.model_dump(exclude={"lat", "lon"}, exclude_none=True)
    geometry = (
        None
        if camera.lat is None or camera.lon is None
        else {"type": "Point", "coordinates": [camera.lon, camera.lat]}
    )
    return {"type": "Feature", "id": camera.camera_id, "geometry": geometry, "properties": props}


def to_feature_collection(cameras: Iterable[CameraIn]) -> dict[str, Any]:
    """Registry records as a GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", "features": [to_feature(camera) for camera in cameras]}
