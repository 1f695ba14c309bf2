"""From a registry record to what is stored: WGS 84 position, metric point and view-sector polygon."""

from __future__ import annotations

from typing import Any

import shapely

from dispatch.cameras.model import CameraIn, CameraOut, to_geo
from dispatch.storage.cameras import staging_record
from geo.crs import Projector, to_wgs84_from


def resolve(camera: CameraIn) -> CameraOut:
    """The record with its position in WGS 84 (x/y in another CRS transformed with pyproj)."""
    values = camera.model_dump(exclude={"x", "y", "crs"})
    if camera.lat is None or camera.lon is None:
        assert camera.x is not None and camera.y is not None and camera.crs is not None
        values["lon"], values["lat"] = to_wgs84_from(camera.crs, camera.x, camera.y)
    return CameraOut.model_validate(values)


def staging_records(cameras: list[CameraOut], projector: Projector) -> list[tuple[Any, ...]]:
    """COPY rows with the metric point and sector derived once, on write."""
    from geo.sector import sector_polygon

    records = []
    for camera in cameras:
        x, y = projector.to_metric(camera.lon, camera.lat)
        sector = sector_polygon(to_geo(camera), projector)
        records.append(staging_record(camera, x, y, shapely.to_wkb(sector)))
    return records
