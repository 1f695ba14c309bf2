"""CSV with a header row read into raw camera records (by line number), and records written as CSV."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from dispatch.cameras.errors import ImportFormatError, ItemError
from dispatch.cameras.model import CameraIn, columns

Record = dict[str, Any]
Item = tuple[int, Record | ItemError]

_PLAIN = tuple(name for name in CameraIn.model_fields if name not in ("streams", "tags"))
_STREAM_COLUMNS = {
    "streams_rtsp": "rtsp",
    "streams.rtsp": "rtsp",
    "rtsp": "rtsp",
    "streams_path": "path",
    "streams.path": "path",
    "path": "path",
}
# CameraIn's fields: a record may give its position as x/y in a named CRS.
COLUMNS = columns(CameraIn, "streams_")


class _Header:
    """What each column of the header means: a plain field, a stream, the tags object or one tag."""

    def __init__(self, cells: list[str]) -> None:
        self.names = [cell.strip() for cell in cells]
        self.width = len(self.names)
        self.id_position = self.names.index("camera_id") if "camera_id" in self.names else -1
        self.streams = {name: _STREAM_COLUMNS[name] for name in self.names if name in _STREAM_COLUMNS}
        self.tag_columns = {name: name[4:] for name in self.names if name.startswith("tag:") and name[4:]}
        self._check()

    def _check(self) -> None:
        known = set(_PLAIN) | set(self.streams) | set(self.tag_columns) | {"tags"}
        for position, name in enumerate(self.names, 1):
            if name not in known:
                raise ImportFormatError(
                    f"CSV column {position} {name!r} is not a camera field; expected columns such as "
                    f"{', '.join(COLUMNS)} or tag:KEY"
                )
            if self.names.index(name) != position - 1:
                raise ImportFormatError(f"CSV column {name!r} appears more than once in the header")
        if "camera_id" not in self.names:
            raise ImportFormatError("the CSV header has no camera_id column")

    def record(self, row: list[str]) -> Record:
        """The raw record of one row; empty cells are absent fields."""
        if len(row) != self.width:
            raise ItemError(f"row has {len(row)} fields but the header has {self.width}")
        record: Record = {name: cell for name, cell in zip(self.names, row, strict=True) if cell != ""}
        if self.streams:
            streams = {self.streams[c]: record.pop(c) for c in self.streams if c in record}
            record["streams"] = streams
        if "tags" in record or self.tag_columns:
            record["tags"] = _tags(record.pop("tags", None)) | {
                key: record.pop(c) for c, key in self.tag_columns.items() if c in record
            }
        return record


def read_csv(data: bytes) -> Iterator[Item]:
    """Items of a CSV file, by the line each row starts on (the header, line 1, is read at once)."""
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    # Decoded as it is read: the whole file as one string would hold it a second time, four bytes a character.
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=_delimiter(data[:65536].decode(encoding, errors="replace")))
    with _whole_file_errors(reader, data, encoding):
        row = next(reader, None)
    if row is None:
        raise ImportFormatError("the CSV file has no header row")
    return _rows(reader, _Header(row), data, encoding)


def _rows(reader: Any, header: _Header, data: bytes, encoding: str) -> Iterator[Item]:
    with _whole_file_errors(reader, data, encoding):
        start = reader.line_num + 1
        for row in reader:
            if row:
                yield start, _row_item(header, row)
            start = reader.line_num + 1


@contextlib.contextmanager
def _whole_file_errors(reader: Any, data: bytes, encoding: str) -> Iterator[None]:
    """CSV syntax and decoding errors as ImportFormatError, saying where."""
    try:
        yield
    except csv.Error as err:
        raise ImportFormatError(f"CSV line {reader.line_num}: {err}") from None
    except UnicodeDecodeError:
        try:  # decoding the whole file says at which byte; the reader decodes a block at a time
            data.decode(encoding)
        except UnicodeDecodeError as err:
            raise ImportFormatError(f"not UTF-8 text: {err.reason} at byte {err.start}") from None
        raise


def _row_item(header: _Header, row: list[str]) -> Record | ItemError:
    try:
        return header.record(row)
    except ItemError as err:
        cell = row[header.id_position] if header.id_position < len(row) else ""
        return ItemError(err.reason, cell or None)


def _delimiter(head: str) -> str:
    """Comma, semicolon (spreadsheets in comma-decimal locales) or tab, whichever the header uses most."""
    first = head.split("\n", 1)[0]
    return max((",", ";", "\t"), key=first.count)


def _tags(cell: str | None) -> dict[str, str]:
    if cell is None:
        return {}
    try:
        value = orjson.loads(cell)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ItemError(f'tags: {cell!r} is not a JSON object of strings such as {{"former_district": "1"}}')
    return value


def write_csv(cameras: Iterable[CameraIn]) -> str:
    """Registry records as CSV text with a header, readable by read_csv (floats written exactly)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for camera in cameras:
        values = camera.model_dump()
        values["streams_rtsp"], values["streams_path"] = camera.streams.rtsp, camera.streams.path
        writer.writerow([_cell(values[name]) for name in COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    return str(value)
