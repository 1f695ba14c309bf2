"""From a registry record to what is stored: WGS 84 position, metric point and view-sector polygon."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import cast

import numpy as np
import numpy.typing as npt

from dispatch.cameras import copy_data
from dispatch.cameras.model import CameraIn, CameraOut
from geo.bulk import FIELDS, sector_rings, view_table
from geo.crs import Projector, to_wgs84_from
from geo.sector import Col

_numbers = attrgetter(*FIELDS[:-2])  # the kind flags are worked out from `kind`


def resolve(camera: CameraIn) -> CameraOut:
    """The record with its position in WGS 84 (x/y in another CRS transformed with pyproj)."""
    if camera.lat is not None and camera.lon is not None:
        # Reads CameraOut's fields off the record: a third of the time of dumping it to a dict first.
        return CameraOut.model_validate(camera, from_attributes=True)
    assert camera.x is not None and camera.y is not None and camera.crs is not None
    values = camera.model_dump(exclude={"x", "y", "crs"})
    values["lon"], values["lat"] = to_wgs84_from(camera.crs, camera.x, camera.y)
    return CameraOut.model_validate(values)


def copy_chunk(cameras: Sequence[CameraIn | CameraOut], projector: Projector) -> copy_data.CopyChunk:
    """Binary COPY data of cameras with their points and sector derived once, on write."""
    records = list(map(_placed, cameras))
    fields = geo_fields(records)
    table = view_table(fields, projector)
    rings, sizes = sector_rings(table)
    metric = table[:, [Col.X, Col.Y]]
    geometry = copy_data.Geometry(fields[:, :2], metric, projector.srid, rings, sizes)
    return copy_data.encode(records, geometry)


def geo_fields(cameras: Sequence[CameraOut]) -> npt.NDArray[np.float64]:
    """The geo.bulk FIELDS of cameras, read off the records as one array."""
    fields = np.empty((len(cameras), len(FIELDS)), dtype=np.float64)
    fields[:, :-2] = np.array(list(map(_numbers, cameras)), np.float64).reshape(len(cameras), -1)
    kinds = np.array([camera.kind for camera in cameras])
    fields[:, -2], fields[:, -1] = kinds == "ptz", kinds == "dome"
    return fields


def _placed(camera: CameraIn | CameraOut) -> CameraOut:
    """The record as stored; a CameraIn already in WGS 84 has every field a CameraOut has."""
    if isinstance(camera, CameraOut):
        return camera
    if camera.lat is None or camera.lon is None:
        return resolve(camera)
    # Validating it a second time, as a CameraOut, would take longer than deriving its sector.
    return cast(CameraOut, camera)
