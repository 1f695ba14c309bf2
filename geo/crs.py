"""Coordinate reference systems: WGS 84 to the metric CRS and back, and grid-north convergence."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from geo.errors import GeoError

FloatArray = npt.NDArray[np.float64]

# Latitude step for the finite-difference convergence: ~1 m, far below the scale at which convergence varies.
_CONVERGENCE_STEP_DEG = 1e-5


def check_lonlat(lon: float, lat: float) -> None:
    """Raises GeoError unless lon/lat are finite WGS 84 degrees."""
    if not math.isfinite(lat) or not -90.0 <= lat <= 90.0:
        raise GeoError("lat", f"{lat} is not a latitude in -90..90")
    if not math.isfinite(lon) or not -180.0 <= lon <= 180.0:
        raise GeoError("lon", f"{lon} is not a longitude in -180..180")


def check_finite(field: str, value: float) -> None:
    """Raises GeoError unless value is a finite number."""
    if not math.isfinite(value):
        raise GeoError(field, "must be a finite number")


class Projector:
    """WGS 84 <-> one projected metric CRS, with transformers built once."""

    def __init__(self, metric_crs: str = "EPSG:32648") -> None:
        try:
            crs = CRS.from_user_input(metric_crs)
        except CRSError as exc:
            raise GeoError("crs", f"unknown CRS {metric_crs!r}") from exc
        epsg = crs.to_epsg()
        if not crs.is_projected or epsg is None or crs.axis_info[0].unit_name != "metre":
            raise GeoError("crs", f"{metric_crs!r} is not a projected EPSG CRS in metres")
        self.metric_crs = metric_crs
        self.srid: int = epsg
        self._forward = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self._inverse = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def to_metric(self, lon: float, lat: float) -> tuple[float, float]:
        """Projects one WGS 84 position to metric (x, y)."""
        check_lonlat(lon, lat)
        x, y = self._forward.transform(lon, lat)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise GeoError("lon", f"({lon}, {lat}) cannot be projected to {self.metric_crs}")
        return float(x), float(y)

    def to_metric_many(self, lons: FloatArray, lats: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Projects arrays of WGS 84 positions (validated) to metric x, y arrays."""
        lons = np.asarray(lons, dtype=np.float64)
        lats = np.asarray(lats, dtype=np.float64)
        bad = ~(np.isfinite(lats) & (np.abs(lats) <= 90.0) & np.isfinite(lons) & (np.abs(lons) <= 180.0))
        if bad.any():
            i = int(np.argmax(bad))
            check_lonlat(float(lons[i]), float(lats[i]))
        xs, ys = self._forward.transform(lons, lats)
        xs = np.asarray(xs, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64)
        if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
            raise GeoError("lon", f"some positions cannot be projected to {self.metric_crs}")
        return xs, ys

    def to_wgs84(self, x: float, y: float) -> tuple[float, float]:
        """Unprojects metric (x, y) to WGS 84 (lon, lat)."""
        check_finite("x", x)
        check_finite("y", y)
        lon, lat = self._inverse.transform(x, y)
        return float(lon), float(lat)

    def to_wgs84_many(self, xs: FloatArray, ys: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Unprojects arrays of metric x, y to WGS 84 lon, lat arrays."""
        lons, lats = self._inverse.transform(np.asarray(xs, np.float64), np.asarray(ys, np.float64))
        return np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)

    def convergence_deg(self, lon: float, lat: float) -> float:
        """Meridian convergence: true north's angle east of grid north is minus this (grid = true - it)."""
        check_lonlat(lon, lat)
        return float(self.convergence_many(np.array([lon]), np.array([lat]))[0])

    def convergence_many(self, lons: FloatArray, lats: FloatArray,
                         projected: tuple[FloatArray, FloatArray] | None = None) -> FloatArray:
        """Meridian convergence in degrees (pyproj sign) of positions, optionally already projected."""
        # The grid direction of a 1 m step along the meridian: works for any projected CRS and vectorises;
        # pyproj's get_factors agrees to ~1e-6 degrees but is four times slower in bulk.
        x0, y0 = projected if projected is not None else self._forward.transform(lons, lats)
        step = np.where(lats + _CONVERGENCE_STEP_DEG <= 90.0, _CONVERGENCE_STEP_DEG, -_CONVERGENCE_STEP_DEG)
        x1, y1 = self._forward.transform(lons, lats + step)
        east = (np.asarray(x1, dtype=np.float64) - x0) * np.sign(step)
        north = (np.asarray(y1, dtype=np.float64) - y0) * np.sign(step)
        return np.asarray(-np.degrees(np.arctan2(east, north)), dtype=np.float64)


@lru_cache(maxsize=32)
def _to_wgs84_transformer(crs: str) -> Transformer:
    try:
        return Transformer.from_crs(CRS.from_user_input(crs), "EPSG:4326", always_xy=True)
    except (CRSError, ProjError) as exc:
        raise GeoError("crs", f"unknown or unusable CRS {crs!r}") from exc


def to_wgs84_from(crs: str, x: float, y: float) -> tuple[float, float]:
    """Transforms (x, y) in any CRS pyproj knows (e.g. "EPSG:9210", VN-2000) to WGS 84 (lon, lat)."""
    check_finite("x", x)
    check_finite("y", y)
    lon, lat = _to_wgs84_transformer(crs).transform(x, y)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise GeoError("x", f"({x}, {y}) is outside the area of {crs}")
    check_lonlat(float(lon), float(lat))
    return float(lon), float(lat)
