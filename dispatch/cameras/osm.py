"""OpenStreetMap `man_made=surveillance` tags mapped to camera registry records."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, TypeGuard

from dispatch.cameras.errors import ItemError

Record = dict[str, Any]
Point = tuple[float, float]  # (lon, lat)

_POINTS = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")
COMPASS: dict[str, float] = {name: i * 22.5 for i, name in enumerate(_POINTS)}

_KINDS = {"fixed": "fixed", "panning": "ptz", "ptz": "ptz", "dome": "dome"}
_CAMERA_TYPES = {"camera", "alpr"}
# Keys that only OSM data carries; our own properties never use them.
_OSM_KEYS = frozenset(
    {
        "man_made",
        "surveillance",
        "surveillance:type",
        "surveillance:zone",
        "camera:type",
        "camera:direction",
        "camera:mount",
        "camera:angle",
        "direction",
        "@id",
    }
)
_OSM_ID = re.compile(r"^(node|way|relation)/(\d+)$")
_HEIGHT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|ft|')?\s*$")
_NOT_ID_CHARS = re.compile(r"[^A-Za-z0-9._:-]+")


def is_osm(props: Mapping[str, Any]) -> bool:
    """True when a feature's properties are OSM tags rather than our camera fields."""
    if "camera_id" in props:
        return False
    return not _OSM_KEYS.isdisjoint(props) or isinstance(props.get("tags"), Mapping)


def unwrap(props: Mapping[str, Any], feature_id: Any) -> tuple[Mapping[str, Any], str | None]:
    """The tags and OSM id of a feature, flat (overpass-turbo) or nested under `tags` (osmtogeojson)."""
    nested = props.get("tags")
    if isinstance(nested, Mapping):
        osm_type, osm_id = props.get("type", "node"), props.get("id")
        return nested, (f"{osm_type}/{osm_id}" if osm_id is not None else _text(feature_id))
    return props, _text(props.get("@id") or props.get("id") or feature_id)


def elements(doc: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any], str | None, Point | None]]:
    """Overpass API JSON: (index, tags, osm id, point) for each tagged element; untagged ones are geometry."""
    items = doc.get("elements")
    if not isinstance(items, list):
        return
    for index, element in enumerate(items):
        tags = element.get("tags") if isinstance(element, Mapping) else None
        if not isinstance(tags, Mapping) or not tags:
            continue
        # Ways and relations have a position only as `center`, and only when asked with `out center`.
        where = element if "lat" in element else element.get("center")
        lat, lon = (where.get("lat"), where.get("lon")) if isinstance(where, Mapping) else (None, None)
        point = (float(lon), float(lat)) if is_number(lat) and is_number(lon) else None
        yield index, tags, f"{element.get('type', 'node')}/{element.get('id')}", point


def records(tags: Mapping[str, Any], osm_id: str | None, point: Point | None) -> list[Record]:
    """One record per viewing direction; raises ItemError naming the tag that is wrong."""
    camera_id = camera_id_of(tags, osm_id)
    try:
        return _records(tags, camera_id, point)
    except ItemError as err:
        raise ItemError(err.reason, camera_id) from None


def camera_id_of(tags: Mapping[str, Any], osm_id: str | None) -> str | None:
    """The camera id: `ref`, else the OSM id as osm-node-123."""
    ref = _text(tags.get("ref"))
    if ref:
        return _NOT_ID_CHARS.sub("-", ref).strip("-") or None
    if not osm_id:
        return None
    match = _OSM_ID.match(osm_id)
    if match:
        return f"osm-{match[1]}-{match[2]}"
    return f"osm-node-{osm_id}" if osm_id.isdigit() else _NOT_ID_CHARS.sub("-", osm_id).strip("-") or None


def _records(tags: Mapping[str, Any], camera_id: str | None, point: Point | None) -> list[Record]:
    _check_is_camera(tags)
    if camera_id is None:
        raise ItemError("camera_id: missing field; give the camera a ref tag or an OSM id (@id or id)")
    if point is None:
        raise ItemError("geometry: not a Point; an OSM camera needs a node position")
    kind = _kind(tags)
    base: Record = {
        "camera_id": camera_id,
        "name": _text(tags.get("name")) or _text(tags.get("surveillance:zone")) or "",
        "lon": point[0],
        "lat": point[1],
        "kind": kind,
        "owner": _text(tags.get("operator")) or "",
        "tags": keep_tags(tags),
        "public": True,  # OSM data is open data already.
    }
    height = _text(tags.get("height"))
    if height is not None:
        base["height_m"] = parse_height(height)
    views = _directions(tags)
    if not views and kind == "fixed":
        raise ItemError("direction: missing field; a fixed camera needs camera:direction or direction")
    if len(views) <= 1:
        return [base | _view(views[0] if views else None)]
    return [base | _view(view) | {"camera_id": f"{camera_id}-{n}"} for n, view in enumerate(views, 1)]


def _check_is_camera(tags: Mapping[str, Any]) -> None:
    man_made = _text(tags.get("man_made"))
    if man_made is not None and man_made != "surveillance":
        raise ItemError(f"man_made: {man_made!r} is not surveillance")
    kind = _text(tags.get("surveillance:type"))
    if kind is not None and kind.lower() not in _CAMERA_TYPES:
        raise ItemError(f"surveillance:type: {kind!r} is not a camera")


def _kind(tags: Mapping[str, Any]) -> str:
    value = _text(tags.get("camera:type"))
    if value is None:
        return "fixed"
    kind = _KINDS.get(value.strip().lower())
    if kind is None:
        raise ItemError(f"camera:type: unknown kind {value!r}; use fixed, panning or dome")
    return kind


def _view(view: tuple[float, float | None] | None) -> Record:
    if view is None:
        return {}
    heading, fov = view
    return {"heading_deg": heading} if fov is None else {"heading_deg": heading, "fov_deg": fov}


def _directions(tags: Mapping[str, Any]) -> list[tuple[float, float | None]]:
    key = "camera:direction" if "camera:direction" in tags else "direction"
    value = _text(tags.get(key))
    if not value:
        return []
    return [parse_direction(part, key) for part in value.split(";") if part.strip()]


def parse_direction(text: str, key: str = "direction") -> tuple[float, float | None]:
    """(heading, fov or None) from degrees, a compass point, or a range `from-to` (clockwise)."""
    single = _bearing(text)
    if single is not None:
        return single, None
    start, sep, end = text.partition("-")
    first, last = _bearing(start), _bearing(end)
    if sep and first is not None and last is not None:
        span = (last - first) % 360.0 or 360.0
        return (first + span / 2.0) % 360.0, span
    raise ItemError(f"{key}: {text.strip()!r} is neither degrees in 0..360 nor a compass point such as SW")


def _bearing(text: str) -> float | None:
    token = text.strip().upper().rstrip("°")
    if token in COMPASS:
        return COMPASS[token]
    try:
        value = float(token)
    except ValueError:
        return None
    return value if 0.0 <= value <= 360.0 else None


def parse_height(text: str) -> float:
    """Metres from an OSM height such as `6`, `6 m`, `6,5` or `20 ft`."""
    match = _HEIGHT.match(text.replace(",", "."))
    if match is None:
        raise ItemError(f"height: {text!r} is not a number of metres (e.g. 6 or 6 m)")
    value = float(match[1])
    return round(value * 0.3048, 2) if match[2] in ("ft", "'") else value


def keep_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    """Every OSM tag as a string; metadata (@version, @user ...) but @id, and nested values, are dropped."""
    kept: dict[str, str] = {}
    for key, value in tags.items():
        text = _text(value)
        if text is not None and (not key.startswith("@") or key == "@id"):
            kept[str(key)] = text
    return kept


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def is_number(value: Any) -> TypeGuard[int | float]:
    """A JSON number (True and False are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)
