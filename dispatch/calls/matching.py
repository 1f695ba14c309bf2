"""From a reported location to the incident's cameras, through the in-process geo/ index."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from dispatch.camera_index import LiveIndex
from dispatch.cameras.model import CameraOut
from dispatch.ingest.model import ReportedLocation
from dispatch.settings import Settings
from geo import region as regions
from geo.camera import Camera
from geo.crs import Projector
from geo.index import Match
from geo.region import Region


@dataclass(frozen=True)
class Matched:
    """A located call's match: what is stored on the incident and sent to consoles."""

    location: dict[str, Any]
    area: str | None
    cameras: list[dict[str, Any]]
    region_wkb: bytes


def to_region(reported: ReportedLocation, projector: Projector, settings: Settings) -> Region:
    """The reported shape in metric coordinates, normalised to the service's confidence."""
    conf = reported.confidence
    if reported.shape == "ellipse" and reported.semi_major_m is not None:
        shape = regions.ellipse(
            projector,
            reported.lat,
            reported.lon,
            reported.semi_major_m,
            reported.semi_minor_m or reported.semi_major_m,
            reported.orientation_deg or 0.0,
            conf,
        )
    elif reported.shape == "polygon" and reported.polygon:
        shape = regions.polygon(projector, reported.polygon, conf)
    elif reported.shape == "arcband":
        shape = regions.arcband(
            projector,
            reported.lat,
            reported.lon,
            reported.inner_radius_m or 0.0,
            reported.outer_radius_m or 0.0,
            reported.start_angle_deg or 0.0,
            reported.opening_angle_deg or 360.0,
            conf,
        )
    else:
        shape = regions.circle(projector, reported.lat, reported.lon, reported.radius_m or 0.0, conf)
    return regions.normalise(shape, settings.match_confidence, settings.min_uncertainty_m)


def camera_entry(match: Match, live: LiveIndex) -> dict[str, Any]:
    """A matched camera as stored on the incident; its feed is added per console at delivery."""
    aim = match.aim
    return {
        **live.fixed_fields(match.camera, _fixed_fields),
        "distance_m": round(match.distance_m, 1),
        "bearing_deg": round(match.bearing_deg, 1),
        "covers": match.covers,
        "coverage": round(match.coverage, 3),
        "aim": None
        if aim is None
        else {
            "pan_deg": round(aim.pan_deg, 1),
            "tilt_deg": round(aim.tilt_deg, 1),
            "within_limits": aim.within_limits,
        },
    }


def _fixed_fields(camera: Camera, record: CameraOut | None) -> dict[str, Any]:
    """The fields of a matched camera that do not depend on the call."""
    connected = camera.connected and camera.quality == "hd"
    return {
        "camera_id": camera.camera_id,
        "name": record.name if record else "",
        "lat": round(camera.lat, 7),
        "lon": round(camera.lon, 7),
        "status": "online" if camera.online else "offline",
        "quality": camera.quality,
        "kind": camera.kind.value,
        "heading_deg": camera.heading_deg,
        "fov_deg": camera.fov_deg,
        "range_m": camera.range_m,
        "pan_min_deg": camera.pan_min_deg,
        "pan_max_deg": camera.pan_max_deg,
        "feed_path": ((record.streams.path if record else None) or camera.camera_id) if connected else None,
    }


def match_location(reported: ReportedLocation, live: LiveIndex, settings: Settings) -> Matched:
    """Matches a location; the nearest camera's area names the incident's area."""
    region = to_region(reported, live.projector, settings)
    found = live.index.match(
        region, k=settings.nearby_k, within_m=settings.nearby_within_m, limit=settings.max_cameras
    )
    cameras = [camera_entry(m, live) for m in found]
    area = _area(found, live)
    location = {
        "reported": reported.model_dump(mode="json", exclude_none=True),
        "region": regions.region_json(region, live.projector),
        "area": area,
    }
    return Matched(location, area, cameras, stored_shape(region))


def _area(found: list[Match], live: LiveIndex) -> str | None:
    for match in sorted(found, key=lambda m: m.distance_m):
        record = live.records.get(match.camera.camera_id)
        if record and record.area:
            return record.area
    return None


def unmatched(reported: ReportedLocation, live: LiveIndex, settings: Settings) -> Matched:
    """The location alone, when matching failed: the call is still stored and published."""
    region = to_region(reported, live.projector, settings)
    location = {
        "reported": reported.model_dump(mode="json", exclude_none=True),
        "region": regions.region_json(region, live.projector),
        "area": None,
    }
    return Matched(location, None, [], stored_shape(region))


def stored_shape(region: Region) -> bytes:
    """The region as stored on the incident (WKB): exact for polygons and ellipses, a circle as 32 chords.

    The stored shape is for map queries, not matching; the 1 mm circle would cost 20-40 µs on every call."""
    if region.kind == "circle" and region.shape is None:
        # Written as WKB directly (little-endian polygon, one ring): through shapely it costs 10x more.
        ring = _UNIT_RING * (region.radius_m or 0.0) + (region.x, region.y)
        return _RING_HEADER + ring.tobytes()
    return bytes(shapely.to_wkb(region.geometry))


_UNIT_RING = np.stack([np.cos(a := np.linspace(0, 2 * np.pi, 33)), np.sin(a)], axis=1)
_UNIT_RING[-1] = _UNIT_RING[0]  # closed exactly
_RING_HEADER = b"\x01" + struct.pack("<III", 3, 1, len(_UNIT_RING))  # byte order, Polygon, 1 ring, points
