"""Crash, short form: 300 calls through three SIGKILLs; every call stored once, the console resumes."""

from __future__ import annotations

import asyncio

import pytest
from chaos_suite import crash
from chaos_suite.common import Row


@pytest.fixture(scope="module")
def row() -> Row:
    return asyncio.run(crash.run(calls=300, rate=60, kills=3))


def test_every_call_is_stored_exactly_once(row: Row) -> None:
    assert row.extra["kills"] == 3
    assert (row.calls_sent, row.calls_stored, row.calls_duplicated, row.calls_lost) == (300, 300, 0, 0)
    assert row.extra["acknowledged_not_stored"] == 0 and row.extra["unanswered"] == 0
    assert row.errors_5xx == 0


def test_resuming_console_sees_every_incident_once(row: Row) -> None:
    assert (row.events_missed, row.events_duplicated) == (0, 0)
    assert row.events_delivered >= 300
