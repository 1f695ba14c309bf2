"""Database outage, short form: the link is cut for 5 s under load; 503 + degraded pushes, then normal."""

from __future__ import annotations

import asyncio

import pytest
from chaos_suite import outage
from chaos_suite.common import Row


@pytest.fixture(scope="module")
def row() -> Row:
    return asyncio.run(outage.run(seconds=15, rate=30, cut_s=5))


def test_no_call_lost_or_duplicated(row: Row) -> None:
    assert (row.calls_stored, row.calls_duplicated, row.calls_lost) == (row.calls_sent, 0, 0)
    assert row.extra["acknowledged_not_stored"] == 0 and row.extra["unanswered"] == 0
    assert row.errors_5xx == 0


def test_outage_is_answered_503_with_retry_after_and_pushed_degraded(row: Row) -> None:
    assert row.extra["answers"].get("503", 0) > 0 and row.extra["503_without_retry_after"] == 0
    assert row.extra["degraded_pushes"] > 0 and row.extra["degraded_frames"] > 0
    assert 503 in row.extra["readyz_during"]


def test_service_recovers_without_restart_and_consoles_miss_nothing(row: Row) -> None:
    assert row.extra["service_starts"] == 1
    assert (row.events_missed, row.events_duplicated) == (0, 0)
