"""Reading the audit chain back: streaming verification and JSON-lines export for inspectors."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime
from typing import Any, TextIO

import asyncpg
import orjson

from dispatch.audit.chain import Break, Entry, Row, Walker, rfc3339

# subject is read as text and parsed here, so that neither depends on the connection's jsonb codec.
_COLUMNS = "audit_id, at, actor, agency, action, subject::text AS subject, reason, prev_hash, hash"
_ALL = f"SELECT {_COLUMNS} FROM audit ORDER BY audit_id"
_WINDOW = f"""
    SELECT {_COLUMNS} FROM audit
    WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
    ORDER BY audit_id"""
PREFETCH = 2000


def _row(record: asyncpg.Record) -> Row:
    entry = Entry(
        record["at"],
        record["actor"],
        record["agency"],
        record["action"],
        orjson.loads(record["subject"]),
        record["reason"],
    )
    return Row(record["audit_id"], entry, record["prev_hash"], record["hash"])


def as_json(row: Row) -> dict[str, Any]:
    """A row as one exported object: every column, so that inspectors can check the hashes themselves."""
    return {
        "audit_id": row.audit_id,
        "at": rfc3339(row.entry.at),
        "actor": row.entry.actor,
        "agency": row.entry.agency,
        "action": row.entry.action,
        "subject": row.entry.subject,
        "reason": row.entry.reason,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


async def _rows(conn: asyncpg.Connection, query: str, *args: Any) -> AsyncGenerator[Row, None]:
    # One read-only snapshot: rows committed while we read neither appear half-way nor shift the walk.
    # (Inside a caller's transaction the cursor uses that transaction's snapshot.)
    nested = conn.is_in_transaction()
    async with conn.transaction() if nested else conn.transaction(isolation="repeatable_read", readonly=True):
        async for record in conn.cursor(query, *args, prefetch=PREFETCH):
            yield _row(record)


async def verify_chain(conn: asyncpg.Connection, walker: Walker | None = None) -> Break | None:
    """The first break in the stored chain, or None; pass a walker to learn the row count and head."""
    walker = walker or Walker()
    async with aclosing(_rows(conn, _ALL)) as rows:
        async for row in rows:
            found = walker.check(row)
            if found is not None:
                return found
    return None


async def export(
    conn: asyncpg.Connection, since: datetime | None, until: datetime | None, out: TextIO
) -> int:
    """Writes the rows with since <= at < until as JSON lines in chain order; answers how many."""
    count = 0
    async with aclosing(_rows(conn, _WINDOW, since, until)) as rows:
        async for row in rows:
            out.write(orjson.dumps(as_json(row)).decode() + "\n")
            count += 1
    return count
