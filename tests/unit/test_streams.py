"""A connection writes frames to its transport: one send per frame, or one per corked burst."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, cast

from aiohttp import web

from dispatch.streams import Connection, text_header


class Transport:
    """Records what is written, as the kernel would take it; nothing is sent."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def writelines(self, data: Iterable[bytes]) -> None:
        self.writes.append(b"".join(data))

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return self.closing


class Socket:
    compress = 0
    closed_with: int | None = None

    async def close(self, code: int, message: bytes = b"") -> None:
        self.closed_with = code


def connection(limit: int = 1 << 20) -> tuple[Connection, Transport]:
    transport = Transport()
    ws = cast(web.WebSocketResponse, Socket())
    return Connection(ws, cast(asyncio.Transport, cast(Any, transport)), limit, 0), transport


def test_each_frame_is_one_send_when_not_corked() -> None:
    conn, transport = connection()
    assert conn.offer(b'{"a":1}') and conn.offer(b'{"b":2}')
    assert transport.writes == [text_header(7) + b'{"a":1}', text_header(7) + b'{"b":2}']


def test_a_corked_burst_is_one_send_with_every_frame_in_order() -> None:
    conn, transport = connection()
    conn.cork()
    frames = [b'{"n":%d}' % n for n in range(5)]
    assert all(conn.offer(frame) for frame in frames)
    assert transport.writes == []
    conn.flush()
    assert transport.writes == [b"".join(text_header(len(f)) + f for f in frames)]
    assert conn.offer(b"{}") and len(transport.writes) == 2  # uncorked again


def test_frames_held_back_count_against_the_limit() -> None:
    conn, _ = connection(limit=100)
    conn.cork()
    results = [conn.offer(b"x" * 40) for _ in range(4)]
    assert results == [True, True, True, False]


def test_a_connection_cut_off_while_corked_gets_nothing_more() -> None:
    conn, transport = connection()
    conn.cork()
    conn.offer(b"{}")
    conn.cut_off = True
    conn.flush()
    assert transport.writes == []
