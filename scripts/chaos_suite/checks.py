"""The invariants every scenario checks: calls stored once, incidents delivered once, figures in a Row."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from chaos_suite.clients import Console, Outcome, Sender, Tally, answer_ms
from chaos_suite.common import Row, opened_incidents, stored_calls

ROUTES = {"police": {"113"}, "fire": {"114"}, "medical": {"115"}, "supervisor": {"113", "114", "115"}}


def add_calls(row: Row, db_url: str, sender: Sender, outcomes: Sequence[Outcome]) -> None:
    """Calls sent / stored / duplicated / lost, 5xx and answer latency, from the database's point of view."""
    stored = stored_calls(db_url, [o.key for o in outcomes])
    row.calls_sent += len(outcomes)
    row.calls_stored += len(stored)
    row.calls_duplicated += sum(n - 1 for n in stored.values())
    row.calls_lost += sum(1 for o in outcomes if o.key not in stored)
    row.errors_5xx += sender.count_5xx()
    row.answer_ms = answer_ms(outcomes)
    acknowledged = {o.key for o in outcomes if o.status in (200, 201)}
    row.extra["acknowledged_not_stored"] = len(acknowledged - set(stored))
    row.extra["unanswered"] = sum(1 for o in outcomes if o.status == 0)
    row.extra["answers"] = {str(status): n for status, n in sorted(sender.statuses.items())}
    row.extra["503_without_retry_after"] = sender.missing_retry_after


def expected_for(db_url: str, role: str) -> set[str]:
    """The stored incidents a console of this role must have seen opened."""
    return {incident for incident, hotline in opened_incidents(db_url).items() if hotline in ROUTES[role]}


async def settle(consoles: Sequence[tuple[Console, set[str]]], timeout_s: float = 10.0) -> None:
    """Waits until each console has seen its expected incidents opened, or the timeout passes."""
    ends = time.monotonic() + timeout_s
    while time.monotonic() < ends:
        if all(expected <= {f.incident_id for f in c.frames if not f.degraded} for c, expected in consoles):
            return
        await asyncio.sleep(0.2)


def add_consoles(
    row: Row, consoles: Sequence[tuple[Console, set[str]]], outcomes: Sequence[Outcome]
) -> Tally:
    """Events delivered / missed / duplicated and push latency over these consoles."""
    tally = Tally()
    sent = {o.key: o.first_sent for o in outcomes}
    for console, expected in consoles:
        tally.add(console, expected, sent)
    row.events_delivered += tally.delivered
    row.events_missed += tally.missed
    row.events_duplicated += tally.duplicated
    row.push_ms = tally.push_ms()
    row.extra["console_resets"] = sum(c.resets for c, _ in consoles)
    row.extra["console_reconnects"] = sum(len(c.closes) for c, _ in consoles)
    row.extra["seq_gaps"] = sum(len(c.gaps) for c, _ in consoles)
    row.extra["missed_most_by_one_console"] = tally.most_missed
    row.extra["console_client_faults"] = sum(len(c.failures) for c, _ in consoles)
    row.extra["degraded_frames"] = tally.degraded
    return tally
