"""A FeatureCollection's features parsed a few megabytes at a time, never the whole document at once."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import orjson

# About 9,000 demo-city cameras: their parsed objects take some 30 MB, those of a million cameras 3 GB.
CHUNK_BYTES = 4 << 20
_FIRST_KEY = re.compile(rb'\s*\{\s*("[^"\\]*")')
_FEATURES = re.compile(rb'"features"\s*:\s*\[')
_HEAD = 1 << 16  # the `features` key is looked for this far into the file, its array's end this far back
_TRIES = 4


class Unsplittable(Exception):
    """The features cannot be cut into parsable chunks: the document must be read whole."""


def feature_chunks(data: bytes) -> Iterator[list[Any]] | None:
    """Lists of features in file order; None unless `data` is a FeatureCollection they can be cut out of."""
    opened = _FEATURES.search(data, 0, _HEAD)
    if opened is None:
        return None
    start = opened.end()
    ends = [end for end in _closing_brackets(data, start) if _skeleton_is_collection(data, start - 1, end)]
    return _chunks(data, start, ends, _between(data, start)) if ends else None


def _closing_brackets(data: bytes, start: int) -> Iterator[int]:
    """Candidate ends of the `features` array, from the end of the file back."""
    end = len(data)
    for _ in range(_TRIES):
        end = data.rfind(b"]", max(start, len(data) - _HEAD), end)
        if end < 0:
            return
        yield end


def _skeleton_is_collection(data: bytes, opened: int, closed: int) -> bool:
    """Whether the document, with data[opened:closed + 1] as its `features` value, is a FeatureCollection."""
    token = uuid.uuid4().hex
    try:
        doc = orjson.loads(b"".join((data[:opened], b'"', token.encode(), b'"', data[closed + 1 :])))
    except orjson.JSONDecodeError:
        return False
    return isinstance(doc, dict) and doc.get("type") == "FeatureCollection" and doc.get("features") == token


def _between(data: bytes, start: int) -> re.Pattern[bytes]:
    """Where a feature may end and the next begin: "}", a comma, "{" and the first feature's first key."""
    # A match inside a string or a nested array is not a cut: the chunk it would end does not parse, and the
    # next match is tried. The key makes such matches rare.
    first = _FIRST_KEY.match(data, start)
    return re.compile(rb"\}\s*(,)\s*\{\s*" + (re.escape(first.group(1)) if first else b""))


def _chunks(data: bytes, start: int, ends: list[int], between: re.Pattern[bytes]) -> Iterator[list[Any]]:
    # Each chunk begins after the comma where the previous one was cut, between two elements of the array:
    # by induction, a cut at a comma that parses ends an element, since no element can end part-way and parse.
    while (cut := _cut(data, start, ends[0], between)) is not None:
        features, start = cut
        yield features
    yield _tail(data, start, ends)


def _cut(data: bytes, start: int, end: int, between: re.Pattern[bytes]) -> tuple[list[Any], int] | None:
    """The features up to the first cut past CHUNK_BYTES that parses, and where the next chunk begins."""
    at = start + CHUNK_BYTES
    for _ in range(_TRIES):
        found = between.search(data, at, end) if at < end else None
        if found is None:
            return None
        cut = found.start(1)
        try:
            return _elements(data, start, cut), cut + 1
        except orjson.JSONDecodeError:
            at = cut + 1
    raise Unsplittable


def _tail(data: bytes, start: int, ends: list[int]) -> list[Any]:
    """The last features, up to the first of the candidate ends of the array that parses."""
    for end in (end for end in ends if end >= start):
        try:
            return _elements(data, start, end)
        except orjson.JSONDecodeError:
            continue
    raise Unsplittable


def _elements(data: bytes, start: int, stop: int) -> list[Any]:
    """The array elements between data[start - 1] and data[stop], each a comma or a bracket."""
    piece = bytearray(data[start - 1 : stop + 1])
    piece[0], piece[-1] = 0x5B, 0x5D
    elements: list[Any] = orjson.loads(piece)
    return elements
