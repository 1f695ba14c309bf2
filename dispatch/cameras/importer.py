"""Bulk camera import: GeoJSON (our fields or OSM tags), Overpass JSON or CSV parsed into registry records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dispatch.cameras.csv_rows import read_csv
from dispatch.cameras.errors import ImportFormatError, ItemError
from dispatch.cameras.geojson import read_json
from dispatch.cameras.model import CameraIn
from geo.crs import to_wgs84_from
from geo.errors import GeoError
from geo.gcpause import paused_gc

__all__ = [
    "ImportBatch",
    "ImportFormatError",
    "ImportStream",
    "KindDefaults",
    "Rejection",
    "TypeDefaults",
    "parse_import",
    "stream_import",
]

Record = dict[str, Any]
Item = tuple[int, Record | ItemError]

_JSON_TYPES = frozenset({"application/json", "application/geo+json", "text/json"})
_CSV_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values"})
_KINDS = ("fixed", "ptz", "dome")
# Cameras validated, derived and copied at a time: at 1M, 10k chunks pipeline as well as 25k ones, with less
# memory in flight.
CHUNK = 10_000
# CameraIn.model_validate without its wrapper's checks of arguments not given here: a tenth of its time.
_validate = CameraIn.__pydantic_validator__.validate_python


class KindDefaults(BaseModel):
    """Field of view and range assumed for a camera type when the record does not give them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fov_deg: float = Field(gt=0, le=360)
    range_m: float = Field(gt=0, le=5000)


class TypeDefaults(BaseModel):
    """Per-type defaults for fov and range (OSM never gives them; our records may leave them out)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fixed: KindDefaults = KindDefaults(fov_deg=70.0, range_m=60.0)
    ptz: KindDefaults = KindDefaults(fov_deg=60.0, range_m=120.0)
    dome: KindDefaults = KindDefaults(fov_deg=360.0, range_m=40.0)

    def for_kind(self, kind: Any) -> KindDefaults | None:
        """The defaults of a kind, or None for an unknown kind (validation then rejects the record)."""
        return getattr(self, kind) if kind in _KINDS else None


class Rejection(BaseModel):
    """One item that was not imported, and why, in words a person can act on."""

    index: int = Field(description="The feature's position (from 0), or the CSV line number (header = 1).")
    camera_id: str | None = None
    reason: str


@dataclass(slots=True)
class ImportBatch:
    """What a file holds: valid records (lat/lon resolved) with their index, and the rejected items."""

    cameras: list[tuple[int, CameraIn]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def parse_import(data: bytes, content_type: str = "", defaults: TypeDefaults | None = None) -> ImportBatch:
    """Parse a whole import file; raises ImportFormatError only when the file as a whole cannot be read."""
    with paused_gc():
        stream = stream_import(data, content_type, defaults)
        batch = ImportBatch(rejected=stream.rejected)
        for chunk in stream:
            batch.cameras.extend(chunk)
    return batch


def stream_import(data: bytes, content_type: str = "", defaults: TypeDefaults | None = None) -> ImportStream:
    """An import file read as its chunks are asked for; ImportFormatError (even part-way) if it cannot be."""
    if not data or data.isspace():
        raise ImportFormatError("the file is empty")
    if _format_of(data, content_type) == "json":
        return ImportStream(read_json(data), "feature", defaults or TypeDefaults(), data.count(b'"Feature"'))
    rows = data.count(b"\n") - data.endswith(b"\n")  # lines but the header
    return ImportStream(read_csv(data), "line", defaults or TypeDefaults(), rows)


def _format_of(data: bytes, content_type: str) -> Literal["json", "csv"]:
    """The declared media type decides; otherwise (text/plain, octet-stream, none) the first byte does."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _JSON_TYPES or media.endswith("+json"):
        return "json"
    if media in _CSV_TYPES:
        return "csv"
    first = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")[:1]  # a slice: never copy a large file to peek
    return "json" if first in (b"{", b"[") else "csv"


class ImportStream:
    """Valid records in chunks of CHUNK, each read when asked for; the rejected items gather in `rejected`."""

    def __init__(self, items: Iterator[Item], unit: str, defaults: TypeDefaults, expected: int) -> None:
        self.expected = expected  # about how many items the file holds, to plan the write and show progress
        self.accepted = 0
        self.rejected: list[Rejection] = []
        self.unit = unit  # "feature" or "line", to say where a repeated id first appeared
        self.seen: dict[str, int] = {}
        self.fills = {kind: (d.fov_deg, d.range_m) for kind in _KINDS if (d := defaults.for_kind(kind))}
        # One generator for the stream's life: a reader that stops early leaves the rest to read.
        self._chunks = self._read(items)

    def __iter__(self) -> Iterator[list[tuple[int, CameraIn]]]:
        return self._chunks

    def _read(self, items: Iterator[Item]) -> Iterator[list[tuple[int, CameraIn]]]:
        """One bad item is a Rejection, never an exception."""
        chunk: list[tuple[int, CameraIn]] = []
        for index, raw in items:
            try:
                chunk.append((index, self._accept(index, raw)))
            except ItemError as err:
                self.rejected.append(Rejection(index=index, camera_id=err.camera_id, reason=err.reason))
            if len(chunk) == CHUNK:
                self.accepted += len(chunk)
                yield chunk
                chunk = []
        if chunk:
            self.accepted += len(chunk)
            yield chunk

    def _accept(self, index: int, raw: Record | ItemError) -> CameraIn:
        if isinstance(raw, ItemError):
            raise raw
        label = _label(raw.get("camera_id"))
        if label is not None:
            if label in self.seen:
                first = f"{self.unit} {self.seen[label]}"
                raise ItemError(f"camera_id: {label!r} is repeated in the file (first at {first})", label)
            self.seen[label] = index
        kind = raw.get("kind", "fixed")
        fill = self.fills.get(kind) if isinstance(kind, str) else None
        if fill is not None:
            raw.setdefault("fov_deg", fill[0])
            raw.setdefault("range_m", fill[1])
        try:
            camera: CameraIn = _validate(raw)
        except ValidationError as err:
            raise ItemError(validation_reason(err), label) from None
        return _resolve_position(camera)


def _label(camera_id: Any) -> str | None:
    """The id as given, for repeat checks and rejections, even when it is not valid."""
    if isinstance(camera_id, str):
        return camera_id
    return str(camera_id) if isinstance(camera_id, int) and not isinstance(camera_id, bool) else None


def _resolve_position(camera: CameraIn) -> CameraIn:
    """Fill lat/lon from x/y in the named CRS when the record gave only a projected position."""
    if camera.lat is not None and camera.lon is not None:
        return camera
    assert camera.x is not None and camera.y is not None and camera.crs is not None  # CameraIn guarantees it
    try:
        lon, lat = to_wgs84_from(camera.crs, camera.x, camera.y)
    except GeoError as err:  # an unknown CRS, or x/y outside its area of use
        raise ItemError(f"{err.field}: {err.message}", camera.camera_id) from None
    camera.lat, camera.lon = lat, lon
    return camera


def validation_reason(err: ValidationError) -> str:
    """Pydantic's errors as one line naming each field: `heading_deg: Input should be ... (got 400)`."""
    parts = []
    for error in err.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "position"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "missing field"
        elif error["type"] == "extra_forbidden":
            message = "not a camera field"
        got = error.get("input")
        if error["loc"] and isinstance(got, str | int | float) and error["type"] != "extra_forbidden":
            message += f" (got {got!r})"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
