"""Slow and dead consoles, short form: 100 consoles, 10 stall, 10 vanish; the live ones get everything."""

from __future__ import annotations

import asyncio

import pytest
from chaos_suite import consoles
from chaos_suite.common import Row

BAD = 10


@pytest.fixture(scope="module")
def row() -> Row:
    return asyncio.run(consoles.run(consoles=100, bad=BAD, calls=300, rate=40))


def test_stalled_consoles_are_cut_off_with_4008(row: Row) -> None:
    assert row.extra["stalled_closed_4008"] == BAD


def test_every_live_console_gets_every_event_once(row: Row) -> None:
    assert row.extra["live"] == {"missed": 0, "duplicated": 0}
    assert row.extra["live_disconnected"] == 0
    assert (row.calls_lost, row.calls_duplicated, row.errors_5xx) == (0, 0, 0)


def test_memory_stays_bounded(row: Row) -> None:
    rss = row.extra["rss_mb"]
    assert rss["faulty_max"] < rss["baseline_max"] + 150


def test_stalled_consoles_resume_without_loss(row: Row) -> None:
    assert row.extra["stalled_resumed"] == {"missed": 0, "duplicated": 0}
    assert (row.extra["seq_gaps"], row.extra["console_client_faults"]) == (0, 0)
