"""Hostile input, short form: schemathesis on every operation and the location parsers through the webhook."""

from __future__ import annotations

import pytest
from chaos_suite import hostile
from chaos_suite.common import Row


@pytest.fixture(scope="module")
def row() -> Row:
    return hostile.run_sync(examples=25, parser_examples=300)


def test_no_5xx_and_nothing_stored_from_a_rejected_request(row: Row) -> None:
    assert row.extra["server_errors"] == []
    assert row.extra["stored_when_rejected"] == []
    assert row.extra["transport_errors"] == []
    assert row.extra["service_alive"] and row.extra["service_errors_logged"] == 0


def test_every_operation_and_parser_was_exercised(row: Row) -> None:
    operations = row.extra["cases_by_operation"]
    assert {"POST /v1/calls", "PUT /v1/cameras/{camera_id}", "GET /v1/cameras/covering"} <= set(operations)
    assert {"parser pidf_lo", "parser aml", "parser aml_https", "xml bomb / external entity"} <= set(
        operations
    )
    assert row.extra["cases"] > 500


def test_external_entities_are_never_fetched(row: Row) -> None:
    assert row.extra["external_entity_fetches"] == 0
    assert row.extra["slowest_parser_answer_ms"] < 5000
