"""PIDF-LO documents (RFC 4119 / 5491 / 7459) kept as files under tests/payloads/pidf_lo."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dispatch.ingest.model import LocationError
from dispatch.ingest.pidf_lo import parse_pidf_lo

PAYLOADS = Path(__file__).parents[2] / "payloads" / "pidf_lo"
METRE = 'uom="urn:ogc:def:uom:EPSG::9001"'
DEGREES = 'uom="urn:ogc:def:uom:EPSG::9102"'
WGS84_2D = 'srsName="urn:ogc:def:crs:EPSG::4326"'


def payload(name: str) -> str:
    """A captured-style document from the payload folder."""
    return (PAYLOADS / name).read_text(encoding="utf-8")


def edited(name: str, old: str, new: str) -> str:
    """A payload with one exact piece of text replaced (which must be there)."""
    text = payload(name)
    assert old in text, f"{old!r} not in {name}"
    return text.replace(old, new)


def test_point_keeps_latitude_first_and_the_tuple_timestamp() -> None:
    location = parse_pidf_lo(payload("point_tuple.xml"))
    # gml:pos is "latitude longitude": 10.7769 must land in lat, not lon.
    assert (location.shape, location.lat, location.lon) == ("point", 10.7769, 106.7009)
    assert location.confidence == 0.95  # RFC 7459 default when no confidence element
    assert location.source == "pidf_lo"
    assert location.measured_at == datetime(2026, 11, 26, 13, 15, 1, tzinfo=UTC)


def test_3d_point_on_a_device_drops_altitude_and_uses_the_device_timestamp() -> None:
    location = parse_pidf_lo(payload("point_3d_device.xml"))
    assert (location.shape, location.lat, location.lon) == ("point", 10.7725, 106.6983)
    assert location.measured_at == datetime(2026, 11, 26, 13, 15, 4, 250000, tzinfo=UTC)


def test_circle_with_rfc7459_confidence_percent() -> None:
    location = parse_pidf_lo(payload("circle_confidence.xml"))
    assert (location.shape, location.lat, location.lon, location.radius_m) == (
        "circle",
        10.7769,
        106.7009,
        35,
    )
    assert location.confidence == pytest.approx(0.68)


def test_ellipse_in_degrees() -> None:
    location = parse_pidf_lo(payload("ellipse_degrees.xml"))
    assert location.shape == "ellipse"
    assert (location.semi_major_m, location.semi_minor_m, location.orientation_deg) == (120, 40.5, 30)
    assert location.confidence == pytest.approx(0.90)
    assert location.measured_at is None


def test_ellipse_orientation_in_radians_becomes_degrees() -> None:
    location = parse_pidf_lo(payload("ellipse_radians.xml"))
    assert location.orientation_deg == pytest.approx(120.0)
    assert location.confidence == 0.95


def test_ellipse_with_axes_swapped_is_the_same_ellipse_turned_a_quarter() -> None:
    text = edited("ellipse_degrees.xml", f"<gs:semiMinorAxis {METRE}>40.5", f"<gs:semiMinorAxis {METRE}>400")
    location = parse_pidf_lo(text)
    assert (location.semi_major_m, location.semi_minor_m, location.orientation_deg) == (400, 120, 120)


def test_ellipsoid_is_an_ellipse_with_orientation_folded_into_0_360() -> None:
    location = parse_pidf_lo(payload("ellipsoid.xml"))
    assert (location.shape, location.lat, location.lon) == ("ellipse", 10.7769, 106.7009)
    assert (location.semi_major_m, location.semi_minor_m, location.orientation_deg) == (60, 25, 315)
    assert location.confidence == pytest.approx(0.80)


def test_sphere_is_a_circle() -> None:
    location = parse_pidf_lo(payload("sphere.xml"))
    assert (location.shape, location.lat, location.lon, location.radius_m) == (
        "circle",
        10.7769,
        106.7009,
        20,
    )


def test_polygon_pos_list_vertices_are_lat_lon_pairs() -> None:
    location = parse_pidf_lo(payload("polygon_poslist.xml"))
    assert location.shape == "polygon"
    assert location.polygon == [
        (10.776, 106.700),
        (10.776, 106.702),
        (10.778, 106.702),
        (10.778, 106.700),
        (10.776, 106.700),
    ]
    assert (location.lat, location.lon) == (10.776, 106.700)  # the first vertex
    assert location.confidence == pytest.approx(0.95)


def test_open_ring_of_pos_elements_is_closed() -> None:
    location = parse_pidf_lo(payload("polygon_pos_open.xml"))
    assert location.polygon == [(10.780, 106.695), (10.781, 106.697), (10.779, 106.698), (10.780, 106.695)]


def test_prism_is_its_base_polygon_without_altitude() -> None:
    location = parse_pidf_lo(payload("prism.xml"))
    assert location.shape == "polygon"
    assert location.polygon is not None and len(location.polygon) == 5
    assert location.polygon[2] == (10.7735, 106.7045)


def test_arcband_radii_and_angles() -> None:
    location = parse_pidf_lo(payload("arcband.xml"))
    assert (location.shape, location.lat, location.lon) == ("arcband", 10.77, 106.69)
    assert (location.inner_radius_m, location.outer_radius_m) == (1500, 2000)
    assert (location.start_angle_deg, location.opening_angle_deg) == (266, 120)
    assert location.confidence == pytest.approx(0.67)


def test_arcband_angles_in_radians() -> None:
    text = edited(
        "arcband.xml",
        f"<gs:openingAngle {DEGREES}>120",
        '<gs:openingAngle uom="urn:ogc:def:uom:EPSG::9101">1.5',
    )
    assert parse_pidf_lo(text).opening_angle_deg == pytest.approx(85.943669)


def test_first_geometry_after_a_civic_address_with_its_holders_timestamp() -> None:
    location = parse_pidf_lo(payload("civic_then_person_circle.xml"))
    assert (location.shape, location.lat, location.lon, location.radius_m) == (
        "circle",
        10.7727,
        106.6996,
        15.5,
    )
    assert location.measured_at == datetime(2026, 11, 26, 13, 15, 2, tzinfo=UTC)


def test_unsupported_shape_is_named() -> None:
    with pytest.raises(LocationError) as caught:
        parse_pidf_lo(payload("linestring_unsupported.xml"))
    assert (caught.value.field, caught.value.message) == ("location.pidf_lo", "unsupported shape LineString")


def test_a_supported_shape_after_an_unsupported_one_is_used() -> None:
    point = f"<gml:Point {WGS84_2D}><gml:pos>10.5 106.5</gml:pos></gml:Point>"
    text = edited("linestring_unsupported.xml", "</gml:LineString>", f"</gml:LineString>{point}")
    location = parse_pidf_lo(text)
    assert (location.shape, location.lat, location.lon) == ("point", 10.5, 106.5)


def test_bytes_in_another_declared_encoding() -> None:
    text = payload("point_tuple.xml").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert parse_pidf_lo(text.encode("utf-16")).lat == 10.7769


@pytest.mark.parametrize(
    "name",
    [
        "attack_billion_laughs.xml",
        "attack_external_entity.xml",
        "attack_external_dtd.xml",
        "attack_parameter_entity.xml",
        "attack_quadratic_blowup.xml",
    ],
)
def test_dtds_and_entities_are_refused_without_expansion(name: str) -> None:
    started = time.perf_counter()
    with pytest.raises(LocationError, match="not accepted"):
        parse_pidf_lo(payload(name))
    assert time.perf_counter() - started < 2  # refused at the DOCTYPE, long before any expansion


def test_xinclude_is_not_followed() -> None:
    with pytest.raises(LocationError, match="no geometry"):
        parse_pidf_lo(payload("attack_xinclude.xml"))


def test_oversized_document_is_refused_before_parsing() -> None:
    padded = payload("point_tuple.xml").replace("<tuple", " " * 65536 + "<tuple")
    with pytest.raises(LocationError, match="larger than 64 KiB"):
        parse_pidf_lo(padded)


def test_deep_nesting_is_only_a_document_without_geometry() -> None:
    nested = "<x>" * 5000 + "</x>" * 5000
    text = edited("point_tuple.xml", "<gp:usage-rules/>", nested)
    assert parse_pidf_lo(text).lat == 10.7769


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("point_tuple.xml", WGS84_2D, 'srsName="urn:ogc:def:crs:EPSG::3857"', "unsupported srsName"),
        ("point_tuple.xml", WGS84_2D, 'srsName="urn:ogc:def:crs:OGC::CRS84"', "unsupported srsName"),
        ("point_tuple.xml", WGS84_2D, "", "unsupported srsName None"),
        ("point_tuple.xml", "EPSG::4326", "EPSG::4979", "groups of 3"),
        ("point_3d_device.xml", "EPSG::4979", "EPSG::4326", "groups of 2"),
        ("point_tuple.xml", "10.77690 106.70090", "91 106.7", "latitude 91.0"),
        ("point_tuple.xml", "10.77690 106.70090", "10.7 180.5", "longitude 180.5"),
        ("point_tuple.xml", "10.77690 106.70090", "10.7 106.7 10.8 106.8", "one position"),
        ("point_tuple.xml", "10.77690 106.70090", "", "groups of 2"),
        ("point_tuple.xml", "10.77690 106.70090", "NaN 106.7", "not a decimal"),
        ("point_tuple.xml", "10.77690 106.70090", "1e999 106.7", "finite"),
        ("point_tuple.xml", "10.77690 106.70090", "1_0 106.7", "not a decimal"),
        ("point_tuple.xml", "10.77690 106.70090", "١٠ 106.7", "not a decimal"),
        ("point_tuple.xml", "<gml:pos>10.77690 106.70090</gml:pos>", "", "lacks gml:pos"),
        ("point_tuple.xml", "+07:00</timestamp>", "</timestamp>", "RFC 3339"),
        ("circle_confidence.xml", METRE, 'uom="urn:ogc:def:uom:EPSG::9002"', "unsupported uom"),
        ("circle_confidence.xml", ">35<", ">-35<", "must not be negative"),
        ("circle_confidence.xml", ">35<", ">2000000<", "less than or equal"),
        ("circle_confidence.xml", ">68<", ">100<", "below 100"),
        ("circle_confidence.xml", ">68<", ">0<", "above 0"),
        ("circle_confidence.xml", ">68<", ">high<", "not a decimal"),
        ("ellipse_degrees.xml", DEGREES, 'uom="urn:ogc:def:uom:EPSG::9105"', "unsupported uom"),
        ("ellipse_degrees.xml", DEGREES, "", "unsupported uom None"),
        ("arcband.xml", ">1500<", ">2500<", "innerRadius exceeds"),
        ("arcband.xml", f"{DEGREES}>120<", f"{DEGREES}>0<", "openingAngle"),
        ("arcband.xml", f"{DEGREES}>120<", f"{DEGREES}>361<", "openingAngle"),
        ("polygon_pos_open.xml", "<gml:pos>10.77900 106.69800</gml:pos>", "", "3 distinct"),
        ("polygon_poslist.xml", "gml:exterior", "gml:interior", "lacks gml:exterior"),
        ("prism.xml", "gs:base", "gs:top", "lacks gs:base"),
        ("point_tuple.xml", 'urn:ietf:params:xml:ns:pidf"', 'urn:example:not-pidf"', "not a PIDF presence"),
        ("point_tuple.xml", "</presence>", "", "not well-formed"),
        ("civic_only.xml", "</presence>", "</presence>", "no geometry"),
    ],
)
def test_rejections(name: str, old: str, new: str, message: str) -> None:
    with pytest.raises(LocationError, match=message) as caught:
        parse_pidf_lo(edited(name, old, new))
    assert caught.value.field == "location.pidf_lo"


@pytest.mark.parametrize(
    "document",
    ["", b"", "not xml", b"\xff\xfe\x00", "<a>\ud800</a>", '<?xml version="1.0" encoding="nope"?><a/>'],
)
def test_garbage_is_a_location_error(document: str | bytes) -> None:
    with pytest.raises(LocationError):
        parse_pidf_lo(document)
