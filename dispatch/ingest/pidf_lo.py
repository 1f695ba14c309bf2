"""PIDF-LO caller locations (RFC 4119): RFC 5491 shapes with RFC 7459 confidence, parsed without DTDs."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET  # the element type and ParseError only; parsing goes through defusedxml
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Final

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from dispatch.ingest.json import build, check_position, check_size, circle_or_point, decimal, percent, rfc3339
from dispatch.ingest.model import LocationError, ReportedLocation

FIELD: Final = "location.pidf_lo"
DEFAULT_CONFIDENCE: Final = 0.95  # RFC 7459: a shape without a confidence element is at 95 %

NS: Final = {
    "pidf": "urn:ietf:params:xml:ns:pidf",
    "dm": "urn:ietf:params:xml:ns:pidf:data-model",
    "gp": "urn:ietf:params:xml:ns:pidf:geopriv10",
    "gml": "http://www.opengis.net/gml",
    "gs": "http://www.opengis.net/pidflo/1.0",
    "con": "urn:ietf:params:xml:ns:geopriv:conf",
}
_GEOMETRY_NAMESPACES: Final = (NS["gml"], NS["gs"])
# Coordinates per position: EPSG:4326 is latitude longitude, EPSG:4979 adds an altitude that we drop.
_CRS_DIMENSIONS: Final = {"urn:ogc:def:crs:EPSG::4326": 2, "urn:ogc:def:crs:EPSG::4979": 3}
_METRE: Final = "urn:ogc:def:uom:EPSG::9001"
_DEGREES_PER_UNIT: Final = {"urn:ogc:def:uom:EPSG::9102": 1.0, "urn:ogc:def:uom:EPSG::9101": 180 / math.pi}
# Where each holder keeps its location-info and timestamp: RFC 4119 tuples, RFC 4479/5491 devices and persons.
_HOLDERS: Final = {
    f"{{{NS['pidf']}}}tuple": ("pidf:status/gp:geopriv/gp:location-info", "pidf:timestamp"),
    f"{{{NS['dm']}}}device": ("gp:geopriv/gp:location-info", "dm:timestamp"),
    f"{{{NS['dm']}}}person": ("gp:geopriv/gp:location-info", "dm:timestamp"),
}

Fields = dict[str, object]


def parse_pidf_lo(document: str | bytes) -> ReportedLocation:
    """Parse a PIDF-LO document into its first usable geometry."""
    root = _parse_xml(document)
    unsupported: list[str] = []
    for holder, info in _location_infos(root):
        for element in info:
            if _namespace(element.tag) not in _GEOMETRY_NAMESPACES:
                continue  # civic addresses, confidence, extensions: not a geometry
            reader = _SHAPES.get(element.tag)
            if reader is None:
                unsupported.append(_local(element.tag))
                continue
            fields = {**reader(element), "confidence": _confidence(info), "source": "pidf_lo"}
            return build(FIELD, {**fields, "measured_at": _timestamp(holder)})
    if unsupported:
        raise LocationError(FIELD, f"unsupported shape {unsupported[0]}")
    raise LocationError(FIELD, "no geometry in any location-info")


def _parse_xml(document: str | bytes) -> ET.Element:
    """The document's root, refusing DTDs, entities and external references outright."""
    check_size(FIELD, document)
    try:
        root = SafeET.fromstring(document, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        message = f"DTDs, entities and external references are not accepted ({type(exc).__name__})"
        raise LocationError(FIELD, message) from None
    except (ET.ParseError, ValueError, LookupError) as exc:  # bad syntax, unencodable text, unknown encoding
        raise LocationError(FIELD, f"not well-formed XML: {exc}") from None
    if not isinstance(root, ET.Element) or root.tag != f"{{{NS['pidf']}}}presence":
        raise LocationError(FIELD, "not a PIDF presence document")
    return root


def _location_infos(root: ET.Element) -> Iterator[tuple[ET.Element, ET.Element]]:
    """Each location-info with the tuple, device or person holding it, in document order."""
    for holder in root:
        paths = _HOLDERS.get(holder.tag)
        if paths is not None:
            for info in holder.iterfind(paths[0], NS):
                yield holder, info


def _timestamp(holder: ET.Element) -> datetime | None:
    """The holder's timestamp, if it has one."""
    element = holder.find(_HOLDERS[holder.tag][1], NS)
    if element is None:
        return None
    return rfc3339(FIELD, (element.text or "").strip())


def _confidence(info: ET.Element) -> float:
    """The RFC 7459 confidence of the location-info's shape, as a fraction."""
    # The pdf attribute (normal, rectangular, unknown) is not kept: matching assumes a circular normal error.
    element = info.find("con:confidence", NS)
    if element is None:
        return DEFAULT_CONFIDENCE
    return percent(FIELD, decimal(FIELD, element.text or ""))


def _namespace(tag: str) -> str:
    """The namespace URI of a Clark-notation tag."""
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def _local(tag: str) -> str:
    """The local name of a Clark-notation tag."""
    return tag.rpartition("}")[2]


def _child(parent: ET.Element, path: str) -> ET.Element:
    """The element at `path` under `parent`, which must exist."""
    found = parent.find(path, NS)
    if found is None:
        raise LocationError(FIELD, f"{_local(parent.tag)} lacks {path}")
    return found


def _dimension(shape: ET.Element) -> int:
    """Coordinates per position under the shape's srsName."""
    srs = shape.get("srsName")
    dimension = _CRS_DIMENSIONS.get(srs or "")
    if dimension is None:
        message = f"{_local(shape.tag)}: unsupported srsName {srs!r} (want EPSG::4326 or ::4979)"
        raise LocationError(FIELD, message)
    return dimension


def _positions(element: ET.Element, dimension: int) -> list[tuple[float, float]]:
    """The (lat, lon) pairs of a gml:pos or gml:posList, altitude dropped."""
    values = [decimal(FIELD, word) for word in (element.text or "").split()]
    if not values or len(values) % dimension:
        raise LocationError(FIELD, f"{_local(element.tag)}: expected groups of {dimension} coordinates")
    pairs = [(values[i], values[i + 1]) for i in range(0, len(values), dimension)]
    for lat, lon in pairs:
        check_position(FIELD, lat, lon)
    return pairs


def _centre(shape: ET.Element) -> Fields:
    """The lat/lon of the shape's single gml:pos."""
    positions = _positions(_child(shape, "gml:pos"), _dimension(shape))
    if len(positions) != 1:
        raise LocationError(FIELD, f"{_local(shape.tag)}: gml:pos must hold one position")
    return {"lat": positions[0][0], "lon": positions[0][1]}


def _length(shape: ET.Element, name: str) -> float:
    """A non-negative length in metres, from a child with a uom."""
    element = _child(shape, f"gs:{name}")
    if element.get("uom") != _METRE:
        raise LocationError(FIELD, f"{name}: unsupported uom {element.get('uom')!r} (want EPSG::9001 metres)")
    value = decimal(FIELD, element.text or "")
    if value < 0:
        raise LocationError(FIELD, f"{name} must not be negative")
    return value


def _angle(shape: ET.Element, name: str) -> float:
    """An angle in degrees, from a child whose uom is degrees or radians."""
    element = _child(shape, f"gs:{name}")
    factor = _DEGREES_PER_UNIT.get(element.get("uom") or "")
    if factor is None:
        message = f"{name}: unsupported uom {element.get('uom')!r} (want EPSG::9102 or ::9101)"
        raise LocationError(FIELD, message)
    return decimal(FIELD, element.text or "") * factor


def _bearing(degrees: float) -> float:
    """An angle folded into [0, 360)."""
    folded = degrees % 360.0
    return 0.0 if folded == 360.0 else folded  # a tiny negative angle rounds up to 360.0


def _point(shape: ET.Element) -> Fields:
    """gml:Point: a bare position."""
    return {**_centre(shape), "shape": "point"}


def _circle(shape: ET.Element) -> Fields:
    """gs:Circle, and gs:Sphere seen from above."""
    return {**_centre(shape), **circle_or_point(_length(shape, "radius"))}


def _ellipse(shape: ET.Element) -> Fields:
    """gs:Ellipse, and gs:Ellipsoid seen from above (its vertical axis ignored)."""
    major, minor = _length(shape, "semiMajorAxis"), _length(shape, "semiMinorAxis")
    orientation = _angle(shape, "orientation")
    if minor > major:  # the same ellipse, described with its axes swapped
        major, minor, orientation = minor, major, orientation + 90
    axes = {"semi_major_m": major, "semi_minor_m": minor, "orientation_deg": _bearing(orientation)}
    return {**_centre(shape), "shape": "ellipse", **axes}


def _arcband(shape: ET.Element) -> Fields:
    """gs:ArcBand: radii from the centre, angles clockwise from north."""
    inner, outer = _length(shape, "innerRadius"), _length(shape, "outerRadius")
    opening = _angle(shape, "openingAngle")
    if inner > outer:
        raise LocationError(FIELD, "ArcBand innerRadius exceeds outerRadius")
    if not 0 < opening <= 360:
        raise LocationError(FIELD, "ArcBand openingAngle must be above 0 and at most 360 degrees")
    return {
        **_centre(shape),
        "shape": "arcband",
        "inner_radius_m": inner,
        "outer_radius_m": outer,
        "start_angle_deg": _bearing(_angle(shape, "startAngle")),
        "opening_angle_deg": opening,
    }


def _polygon(shape: ET.Element) -> Fields:
    """gml:Polygon, by its exterior ring."""
    return _ring(shape, _dimension(shape))


def _prism(shape: ET.Element) -> Fields:
    """gs:Prism seen from above: its base polygon, under the prism's srsName."""
    return _ring(_child(shape, "gs:base/gml:Polygon"), _dimension(shape))


def _ring(polygon: ET.Element, dimension: int) -> Fields:
    """A closed ring of (lat, lon) vertices from the exterior LinearRing's posList or pos list."""
    # Interior rings (holes) are ignored: dropping a hole only widens the area searched.
    ring = _child(polygon, "gml:exterior/gml:LinearRing")
    pos_list = ring.find("gml:posList", NS)
    elements = [pos_list] if pos_list is not None else ring.findall("gml:pos", NS)
    vertices = [pair for element in elements for pair in _positions(element, dimension)]
    if len(set(vertices)) < 3:
        raise LocationError(FIELD, "Polygon needs at least 3 distinct vertices")
    if vertices[0] != vertices[-1]:
        vertices.append(vertices[0])
    return {"shape": "polygon", "lat": vertices[0][0], "lon": vertices[0][1], "polygon": vertices}


_SHAPES: Final[dict[str, Callable[[ET.Element], Fields]]] = {
    f"{{{NS['gml']}}}Point": _point,
    f"{{{NS['gs']}}}Circle": _circle,
    f"{{{NS['gs']}}}Sphere": _circle,
    f"{{{NS['gs']}}}Ellipse": _ellipse,
    f"{{{NS['gs']}}}Ellipsoid": _ellipse,
    f"{{{NS['gs']}}}ArcBand": _arcband,
    f"{{{NS['gml']}}}Polygon": _polygon,
    f"{{{NS['gs']}}}Prism": _prism,
}
