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
    """COPY rows with the metric point and sector derived once, on write (vectorised over the batch)."""
    from geo.sector import Col, sector_polygons, view_columns

    table = view_columns([to_geo(camera) for camera in cameras], projector)
    sectors = shapely.to_wkb(sector_polygons(table))
    return [
        staging_record(camera, float(row[Col.X]), float(row[Col.Y]), wkb)
        for camera, row, wkb in zip(cameras, table, sectors, strict=True)
    ]
