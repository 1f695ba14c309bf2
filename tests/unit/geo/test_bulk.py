"""geo.bulk gives, bit for bit, what geo.sector gives camera by camera."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.bulk import FIELDS, sector_rings
from geo.camera import Camera, Kind
from geo.crs import Projector
from geo.sector import sector_ring, view_columns, view_table
from tests.unit.geo.helpers import camera_at

ODD = [
    {"kind": Kind.DOME, "fov_deg": 60.0, "range_m": 40.0},
    {"kind": Kind.PTZ, "fov_deg": 60.0, "pan_min_deg": 300.0, "pan_max_deg": 40.0},
    {"kind": Kind.PTZ, "fov_deg": 60.0, "pan_min_deg": 10.0, "pan_max_deg": 10.0},
    {"kind": Kind.PTZ, "fov_deg": 60.0},
    {"fov_deg": 360.0},
    {"fov_deg": 0.5, "range_m": 0.0005},
    {"fov_deg": 110.0, "heading_deg": 359.9, "range_m": 4999.0},
]


def _fields(cameras: list[Camera]) -> np.ndarray:
    values = [[getattr(c, name, None) for name in FIELDS[:-2]] for c in cameras]
    flags = [[c.kind is Kind.PTZ, c.kind is Kind.DOME] for c in cameras]
    return np.hstack([np.array(values, np.float64), np.array(flags, np.float64)])


def _check(cameras: list[Camera], projector: Projector) -> None:
    table = view_table(_fields(cameras), projector)
    assert np.array_equal(table, view_columns(cameras, projector))
    rings, sizes = sector_rings(table)
    expected = [sector_ring(row) for row in table]
    assert sizes.tolist() == [len(ring) for ring in expected]
    assert np.array_equal(rings, np.concatenate(expected))


def test_odd_cameras(projector: Projector) -> None:
    _check([camera_at(projector, 10.0 * i, 0.0, **fields) for i, fields in enumerate(ODD)], projector)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(Kind)),
            st.floats(0, 360),
            st.floats(0.5, 360),
            st.floats(0.01, 5000),
            st.one_of(st.none(), st.tuples(st.floats(0, 360), st.floats(0, 360))),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_cameras(specs: list[tuple[Kind, float, float, float, tuple[float, float] | None]]) -> None:
    projector = Projector()
    cameras = [
        camera_at(
            projector,
            50.0 * i,
            -30.0 * i,
            kind=kind,
            heading_deg=heading,
            fov_deg=fov,
            range_m=reach,
            pan_min_deg=pan[0] if pan else None,
            pan_max_deg=pan[1] if pan else None,
        )
        for i, (kind, heading, fov, reach, pan) in enumerate(specs)
    ]
    _check(cameras, projector)
