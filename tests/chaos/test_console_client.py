"""The suite's console client keeps the service's contract: it resumes from below its lowest seq gap."""

from __future__ import annotations

from typing import Any

import orjson
from chaos_suite.clients import Console, Frame


class Socket:
    """Records what the console sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_str(self, text: str) -> None:
        self.sent.append(orjson.loads(text))


def _frame(kind: str, seq: int, event_id: int = 0) -> Frame:
    return Frame(kind, seq, event_id, f"incident-{event_id}", "", False, 0.0)


async def _feed(console: Console, socket: Socket, *frames: Frame) -> None:
    for frame in frames:
        await console._receive(socket, frame)  # type: ignore[arg-type]


async def test_a_console_cut_off_during_a_late_gap_resumes_below_it_and_ignores_what_it_has() -> None:
    console, socket = Console("", ""), Socket()
    await _feed(console, socket, _frame("hello", 0), _frame("incident.opened", 1, 11))
    # Reconnected; its resume was read late: live frames 4 and 5 first, then the gap 2..3, cut off after 2.
    await _feed(
        console, socket, _frame("hello", 3), *(_frame("incident.opened", s, 10 + s) for s in (4, 5, 2))
    )
    assert console.gaps == {3}
    await _feed(console, socket, _frame("hello", 5))
    assert socket.sent[-1] == {"type": "resume", "after_seq": 2, "after_event_id": 11}
    await _feed(console, socket, *(_frame("incident.opened", s, 10 + s) for s in (3, 4, 5, 6)))
    assert (console.gaps, console.redelivered, console.last_event_id) == (set(), 2, 16)
    assert [f.seq for f in console.frames] == [1, 4, 5, 2, 3, 6]


async def test_after_reset_the_frames_since_hello_are_taken_even_below_the_old_seq() -> None:
    console, socket = Console("", ""), Socket()
    await _feed(console, socket, _frame("hello", 0), _frame("incident.opened", 1, 11))
    await _feed(console, socket, _frame("hello", 0), _frame("reset", 0), _frame("incident.opened", 1, 12))
    assert [f.event_id for f in console.frames] == [11, 12]
