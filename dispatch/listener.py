"""LISTEN on a dedicated connection, reconnecting with backoff; a reconnect may have missed notifications."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

import asyncpg

from dispatch.storage.db import UNAVAILABLE

log = logging.getLogger(__name__)
Callback = Callable[[int, str], None]  # the notifying server process id, the payload


class Listener:
    """Keeps one LISTEN connection open and calls `on_reconnect` whenever it had to reconnect."""

    def __init__(
        self,
        dsn: str,
        channels: Mapping[str, Callback],
        on_reconnect: Callable[[], Awaitable[None]],
        checkpoint: Callable[[], Callable[[], None]] = lambda: lambda: None,
    ) -> None:
        self.dsn = dsn
        self.channels = channels
        self.on_reconnect = on_reconnect
        # Called before each probe of the connection; what it returns is called when the probe answers.
        self.checkpoint = checkpoint
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Listens until cancelled."""
        delay = 0.2
        first = True
        while True:
            try:
                conn = await asyncpg.connect(self.dsn)
            except UNAVAILABLE as exc:
                log.warning("listener cannot connect (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            delay = 0.2
            try:
                await self._listen(conn, first)
                first = False
            finally:
                self.connected.clear()
                await _close(conn)

    async def _listen(self, conn: asyncpg.Connection, first: bool) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        for channel, callback in self.channels.items():
            await conn.add_listener(channel, _adapter(callback))
        self.connected.set()
        if not first:
            await self.on_reconnect()
        # asyncio.timeout, not wait_for: on Python 3.11, wait_for returns the result of a call that completes
        # as the task is cancelled and drops the cancellation, so shutdown waited on this loop for ever.
        while not lost.is_set():
            try:
                async with asyncio.timeout(5.0):
                    await lost.wait()
            except TimeoutError:
                healthy = self.checkpoint()
                if not await _alive(conn):
                    return
                healthy()


def _adapter(callback: Callback) -> Callable[[object, int, str, str], None]:
    def on_notify(_conn: object, pid: int, _channel: str, payload: str) -> None:
        callback(pid, payload)

    return on_notify


async def _alive(conn: asyncpg.Connection) -> bool:
    # A silent network loss raises no termination event: probe the connection now and then.
    try:
        async with asyncio.timeout(3.0):
            await conn.fetchval("SELECT 1")
        return True
    except (*UNAVAILABLE, asyncpg.PostgresError):
        return False


async def _close(conn: asyncpg.Connection) -> None:
    try:
        async with asyncio.timeout(2.0):
            await conn.close()
    except (*UNAVAILABLE, asyncpg.PostgresError):
        conn.terminate()
