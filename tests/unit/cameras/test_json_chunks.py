"""A FeatureCollection read in chunks gives exactly the features of the whole document, in any layout."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from dispatch.cameras import json_chunks
from dispatch.cameras.importer import ImportFormatError, parse_import
from dispatch.cameras.json_chunks import feature_chunks
from dispatch.demo_city import generate


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_chunks, "CHUNK_BYTES", 600)


def _awkward(count: int) -> dict[str, Any]:
    """Demo cameras whose text and tags hold what a cut between features looks like."""
    collection = generate(cameras=count, seed=5)
    for i, feature in enumerate(collection["features"]):
        feature["properties"]["name"] = f'corner }}, {{"type": "Feature" {i}'
        feature["properties"]["tags"] = {"note": "},{"}
        feature["nested"] = [{"a": 1}, {"type": [{"c": 2}, {"type": 3}]}]
    return {"type": "FeatureCollection", **collection, "bbox": [106.0, 10.0, 107.0, 11.0]}


def _all(chunks: Any) -> list[Any]:
    assert chunks is not None
    lists = list(chunks)
    assert len(lists) > 1  # really cut
    return [feature for features in lists for feature in features]


@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "indented"])
def test_chunks_hold_every_feature_in_order(indent: int | None) -> None:
    collection = _awkward(60)
    data = json.dumps(collection, indent=indent, ensure_ascii=False).encode()
    assert _all(feature_chunks(data)) == collection["features"]


def test_an_import_read_in_chunks_is_the_import_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    data = orjson.dumps(_awkward(60))
    chunked = parse_import(data, "application/geo+json")
    monkeypatch.setattr(json_chunks, "feature_chunks", lambda data: None)
    assert chunked == parse_import(data, "application/geo+json")
    assert len(chunked.cameras) == 60


def test_a_syntax_error_part_way_is_the_whole_documents() -> None:
    data = orjson.dumps(_awkward(40))
    data = data[: len(data) // 2] + data[len(data) // 2 :].replace(b'"public":false', b'"public":nope', 1)
    with pytest.raises(orjson.JSONDecodeError) as whole:
        orjson.loads(data)
    with pytest.raises(ImportFormatError, match=f"at line 1 column {whole.value.colno}$"):
        parse_import(data, "application/geo+json")


@pytest.mark.parametrize(
    "doc",
    [
        {"type": "Feature", "geometry": None, "properties": {"features": []}},
        {"meta": {"features": [{"type": "Feature"}]}, "type": "FeatureCollection", "features": []},
        {"type": "Topology", "features": [{"type": "Feature"}]},
        [{"features": []}],
    ],
    ids=["feature", "nested-key", "other-type", "array"],
)
def test_other_documents_are_left_to_a_whole_parse(doc: Any) -> None:
    assert feature_chunks(orjson.dumps(doc)) is None
