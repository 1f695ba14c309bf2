"""From a registry record to what is stored: WGS 84 position, metric point and view-sector polygon."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import cast

import numpy as np
import numpy.typing as npt

from dispatch.cameras import copy_data
from dispatch.cameras.model import CameraIn, CameraOut
from geo.bulk import FIELDS, sector_rings
from geo.crs import Projector, to_wgs84_from
from geo.sector import Col, view_table

# What is read off each record at once: the numbers of its COPY row, then its pan limits (None is NaN).
_NUMBERS = (*copy_data.NUMBERS, "pan_min_deg", "pan_max_deg")
_numbers = attrgetter(*_NUMBERS)
_GEO_COLUMNS = [_NUMBERS.index(name) for name in FIELDS[:-2]]  # the kind flags are worked out from `kind`


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
    records, numbers = _placed(cameras)
    fields = np.empty((len(records), len(FIELDS)), dtype=np.float64)
    fields[:, :-2] = numbers[:, _GEO_COLUMNS]
    kinds = np.array([camera.kind for camera in records])
    fields[:, -2], fields[:, -1] = kinds == "ptz", kinds == "dome"
    table = view_table(fields, projector)
    rings, sizes = sector_rings(table)
    geometry = copy_data.Geometry(fields[:, :2], table[:, [Col.X, Col.Y]], projector.srid, rings, sizes)
    return copy_data.encode(records, numbers[:, : len(copy_data.NUMBERS)], geometry)


def _placed(cameras: Sequence[CameraIn | CameraOut]) -> tuple[list[CameraOut], npt.NDArray[np.float64]]:
    """The records as stored and their _NUMBERS; a CameraIn in WGS 84 has every field a CameraOut has."""
    # Validating such a CameraIn a second time, as a CameraOut, would take longer than deriving its sector.
    records = cast(list[CameraOut], list(cameras))
    numbers = np.array(list(map(_numbers, records)), np.float64).reshape(len(records), len(_NUMBERS))
    for row in np.flatnonzero(np.isnan(numbers[:, :2]).any(axis=1)).tolist():  # still x/y in some CRS
        records[row] = resolve(cast(CameraIn, records[row]))
        numbers[row] = _numbers(records[row])
    return records, numbers
