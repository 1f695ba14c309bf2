"""Writing the audit chain: a non-blocking recorder flushed in batches, and an in-transaction append."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

from dispatch.audit.chain import GENESIS, Entry, Row, seal
from dispatch.storage.db import transaction

log = logging.getLogger(__name__)
# Every writer of the chain, in every service instance, holds this transaction-level advisory lock
# ("csaudit" in ASCII) from reading the chain's last row until its own rows commit.
LOCK_KEY = 0x6373_6175_6469_74
_TAIL = "SELECT audit_id, hash FROM audit ORDER BY audit_id DESC LIMIT 1"
_IDS = "SELECT nextval(pg_get_serial_sequence('audit', 'audit_id')) FROM generate_series(1, $1)"
_INSERT = """
    INSERT INTO audit (audit_id, at, actor, agency, action, subject, reason, prev_hash, hash)
    SELECT i, t, a, g, x, s::jsonb, r, p, h
    FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                $8::text[], $9::text[]) AS u(i, t, a, g, x, s, r, p, h)"""
_STORED = "SELECT hash FROM audit WHERE audit_id = $1"


def entry(
    actor: str,
    agency: str | None,
    action: str,
    subject: dict[str, Any],
    reason: str | None,
    plain_subject: bool = False,
) -> Entry:
    """An entry stamped now, in the form that survives a round trip through jsonb unchanged (`plain`, unless
    the subject is built of parts already plain: the hot path's deliveries)."""
    shown = subject if plain_subject else plain(subject)
    return Entry(datetime.now(UTC), _clean(actor), _opt(agency), _clean(action), shown, _opt(reason))


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL; one bad row must not block the chain behind it.
    return str(text).replace("\x00", "\ufffd")


def _opt(text: str | None) -> str | None:
    return None if text is None else _clean(text)


def plain(value: Any) -> Any:
    # jsonb rewrites numbers (1e20 comes back as 100000000000000000000), which would break the hash: subjects
    # carry ids, so a fractional number is kept as its text.
    if isinstance(value, dict):
        return {_clean(str(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return _clean(value)
    if value is None or isinstance(value, bool | int):
        return value
    return _clean(str(value))


async def append(conn: asyncpg.Connection, entries: Sequence[Entry]) -> list[Row]:
    """Extends the chain with entries in the caller's transaction, holding the chain lock until it ends."""
    if not conn.is_in_transaction():
        raise RuntimeError("audit rows are appended inside a transaction (the chain lock lasts as long)")
    await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
    tail = await conn.fetchrow(_TAIL)
    ids = sorted(record[0] for record in await conn.fetch(_IDS, len(entries)))
    rows = seal(entries, ids, (tail["audit_id"], tail["hash"] or GENESIS) if tail else (None, GENESIS))
    await conn.execute(
        _INSERT,
        [row.audit_id for row in rows],
        [row.entry.at for row in rows],
        [row.entry.actor for row in rows],
        [row.entry.agency for row in rows],
        [row.entry.action for row in rows],
        [orjson.dumps(row.entry.subject).decode() for row in rows],
        [row.entry.reason for row in rows],
        [row.prev_hash for row in rows],
        [row.hash for row in rows],
    )
    return rows


async def append_now(
    conn: asyncpg.Connection,
    actor: str,
    agency: str | None,
    action: str,
    subject: dict[str, Any],
    reason: str | None = None,
) -> int:
    """Writes one row in the caller's transaction (it commits or rolls back with what it records)."""
    rows = await append(conn, [entry(actor, agency, action, subject, reason)])
    return rows[0].audit_id


class Auditor:
    """Records disclosures without waiting for the database; a background task writes them in batches."""

    def __init__(
        self,
        batch_size: int = 500,
        interval_s: float = 0.1,
        max_pending: int = 100_000,
        retry_s: float = 1.0,
    ) -> None:
        self.batch_size = batch_size
        self.interval_s = interval_s
        self.max_pending = max_pending
        self.retry_s = retry_s
        self.pending: deque[Entry] = deque()
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self._streak = 0
        self._wake = asyncio.Event()
        self._stopping = False
        # The last row of a batch whose COMMIT was sent but never answered: it may be stored already.
        self._unsure: tuple[int, str, int] | None = None

    def record(
        self,
        actor: str,
        agency: str | None,
        action: str,
        subject: dict[str, Any],
        reason: str | None = None,
        plain_subject: bool = False,
    ) -> None:
        """Queues one disclosure; never waits (beyond max_pending rows it is dropped and counted)."""
        if len(self.pending) >= self.max_pending:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 10_000 == 0:
                log.error(
                    "audit queue full (%d rows): %d rows dropped so far", self.max_pending, self.dropped
                )
            return
        self.pending.append(entry(actor, agency, action, subject, reason, plain_subject))
        if len(self.pending) >= self.batch_size:
            self._wake.set()

    def stop(self) -> None:
        """Asks run() to write what is pending and return."""
        self._stopping = True
        self._wake.set()

    async def run(self, pool: asyncpg.Pool) -> None:
        """Flushes every interval, or as soon as a batch is full, until stop(); then writes what is left."""
        delay = self.interval_s
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()
            delay = self.interval_s if await self.flush(pool) else self.retry_s
        for _ in range(3):
            if await self.flush(pool):
                return
            await asyncio.sleep(min(self.retry_s, 0.5))
        log.error("%d audit rows could not be written before shutdown", len(self.pending))

    async def flush(self, pool: asyncpg.Pool) -> bool:
        """Writes everything pending, a batch per transaction; False (rows kept) when the database fails."""
        while self.pending:
            batch = list(itertools.islice(self.pending, self.batch_size))
            try:
                done = await self._write(pool, batch)
            except Exception as exc:  # any failure: keep the rows and retry; the chain must not lose them
                self.failures += 1
                self._streak += 1
                if self._streak == 1 or self._streak % 60 == 0:
                    log.warning("audit rows not written yet (%d pending): %s", len(self.pending), exc)
                return False
            if self._streak:
                log.warning("audit rows written again after %d failed attempts", self._streak)
                self._streak = 0
            for _ in range(done):
                self.pending.popleft()
            self.written += done
        return True

    async def _write(self, pool: asyncpg.Pool, batch: list[Entry]) -> int:
        # How many pending rows are now stored: this batch, or the earlier one whose COMMIT went unanswered.
        async with transaction(pool) as conn:
            if self._unsure is not None:
                last_id, last_hash, count = self._unsure
                self._unsure = None
                if await conn.fetchval(_STORED, last_id) == last_hash:
                    return count
            rows = await append(conn, batch)
            self._unsure = (rows[-1].audit_id, rows[-1].hash or "", len(rows))
        self._unsure = None
        return len(rows)
