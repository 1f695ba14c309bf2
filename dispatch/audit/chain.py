"""The audit hash chain: each row's hash covers the previous row's hash and its own canonical content."""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

GENESIS = "0" * 64
# How many recent rows the walker keeps to tell an inserted row (its successor links further back) from a
# deleted one (its successor links to nothing seen).
WINDOW = 1024
Kind = Literal["altered", "deleted", "inserted", "moved"]


@dataclass(frozen=True)
class Entry:
    """One disclosure as recorded: who, what, when and why."""

    at: datetime
    actor: str
    agency: str | None
    action: str
    subject: dict[str, Any]
    reason: str | None


@dataclass(frozen=True)
class Row:
    """An entry as stored: its place in the chain and its hashes."""

    audit_id: int
    entry: Entry
    prev_hash: str | None
    hash: str | None


@dataclass(frozen=True)
class Break:
    """The first row where the chain does not hold, and why."""

    audit_id: int
    kind: Kind
    detail: str

    def __str__(self) -> str:
        return f"audit_id {self.audit_id} {self.kind}: {self.detail}"


def rfc3339(at: datetime) -> str:
    """UTC with microseconds, the one spelling of a time that the hash covers."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(entry: Entry, audit_id: int, prev_id: int | None) -> bytes:
    """Sorted-key compact JSON of what a row says, including where it sits in the chain."""
    content = {
        "action": entry.action,
        "actor": entry.actor,
        "agency": entry.agency,
        "at": rfc3339(entry.at),
        "audit_id": audit_id,
        "prev_id": prev_id,
        "reason": entry.reason,
        "subject": entry.subject,
    }
    return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)


def row_hash(prev_hash: str, content: bytes) -> str:
    """sha256 hex of the previous hash, a newline and the canonical content."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + content).hexdigest()


def seal(entries: Sequence[Entry], ids: Sequence[int], tail: tuple[int | None, str]) -> list[Row]:
    """Chains entries, with the given new ids in order, after the last stored row (id and hash)."""
    prev_id, prev_hash = tail
    rows = []
    for entry, audit_id in zip(entries, ids, strict=True):
        digest = row_hash(prev_hash, canonical(entry, audit_id, prev_id))
        rows.append(Row(audit_id, entry, prev_hash, digest))
        prev_id, prev_hash = audit_id, digest
    return rows


class Walker:
    """Checks rows one at a time in audit_id order, so that a chain of any length can be streamed."""

    def __init__(self) -> None:
        self.count = 0
        self.last: Row | None = None
        self.recent: deque[Row] = deque(maxlen=WINDOW)

    def check(self, row: Row) -> Break | None:
        """The break this row reveals, or None when it extends the chain."""
        self.count += 1
        prev = self.last
        expected = prev.hash if prev else GENESIS
        if row.prev_hash != expected:
            return self._unlinked(row, prev)
        if not _authentic(row, prev):
            return Break(row.audit_id, "altered", "its content does not match its hash")
        self.last = row
        self.recent.append(row)
        return None

    def _unlinked(self, row: Row, prev: Row | None) -> Break:
        # The row does not link to the row before it: find the most likely reason.
        for earlier, after in zip(self.recent, list(self.recent)[1:], strict=False):
            if earlier.hash == row.prev_hash:
                return Break(after.audit_id, "inserted", f"it is not in the chain after {earlier.audit_id}")
        if prev is not None and _authentic(row, prev):
            # The row was written right after prev and is intact: prev was rewritten, hash and all.
            return Break(
                prev.audit_id, "altered", "its hash was rewritten; the next row no longer links to it"
            )
        if prev is None or row.audit_id > prev.audit_id + 1:
            where = f"after {prev.audit_id}" if prev else "at the start"
            return Break(row.audit_id, "deleted", f"the row(s) before it {where} are missing")
        return Break(row.audit_id, "moved", f"it was not written after {prev.audit_id}")


def _authentic(row: Row, prev: Row | None) -> bool:
    prev_id = prev.audit_id if prev else None
    return row.prev_hash is not None and row.hash == row_hash(
        row.prev_hash, canonical(row.entry, row.audit_id, prev_id)
    )


def verify(rows: Iterable[Row]) -> Break | None:
    """The first break in rows given in audit_id order, or None when the chain is intact."""
    walker = Walker()
    for row in rows:
        found = walker.check(row)
        if found is not None:
            return found
    return None
