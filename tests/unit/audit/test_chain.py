"""The hash chain names the first row that was altered, deleted, moved or inserted; an intact chain passes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.audit.chain import (
    GENESIS,
    Entry,
    Row,
    Walker,
    canonical,
    rfc3339,
    row_hash,
    seal,
    verify,
)

T0 = datetime(2026, 11, 26, 13, 15, 3, 120_000, tzinfo=UTC)


def _entries(n: int) -> list[Entry]:
    return [
        Entry(
            T0 + timedelta(seconds=i),
            f"console-{i % 3}",
            "police",
            "feed.granted",
            {"camera_id": f"CAM-{i}", "incident_id": "inc-1"},
            "incident inc-1",
        )
        for i in range(n)
    ]


def _chain(n: int = 10, ids: list[int] | None = None) -> list[Row]:
    return seal(_entries(n), ids or list(range(1, n + 1)), (None, GENESIS))


def test_an_intact_chain_passes_and_tolerates_gaps_from_rolled_back_ids() -> None:
    assert verify(_chain()) is None
    assert verify(_chain(5, [1, 2, 7, 8, 20])) is None
    assert verify([]) is None


def test_the_hash_covers_the_previous_hash_and_the_canonical_content() -> None:
    first = _chain(1)[0]
    content = canonical(first.entry, 1, None)
    assert content.startswith(b'{"action":"feed.granted","actor":"console-0","agency":"police",')
    assert b'"at":"2026-11-26T13:15:03.120000Z"' in content
    assert b'"audit_id":1,"prev_id":null' in content
    assert first.prev_hash == GENESIS
    assert first.hash == row_hash(GENESIS, content)


def test_times_are_hashed_in_utc_whatever_the_offset() -> None:
    local = T0.astimezone(datetime.now().astimezone().tzinfo)
    assert rfc3339(local) == rfc3339(T0) == "2026-11-26T13:15:03.120000Z"


@pytest.mark.parametrize("position", [0, 4, 9])
def test_an_altered_row_is_named(position: int) -> None:
    rows = _chain()
    victim = rows[position]
    forged = dataclasses.replace(victim.entry, subject={"camera_id": "OTHER", "incident_id": "inc-1"})
    rows[position] = dataclasses.replace(victim, entry=forged)
    found = verify(rows)
    assert found is not None and (found.audit_id, found.kind) == (victim.audit_id, "altered")


def test_a_row_altered_with_its_hash_recomputed_is_named() -> None:
    rows = _chain()
    victim = rows[3]
    forged = dataclasses.replace(victim.entry, actor="someone-else")
    digest = row_hash(victim.prev_hash or "", canonical(forged, victim.audit_id, rows[2].audit_id))
    rows[3] = dataclasses.replace(victim, entry=forged, hash=digest)
    found = verify(rows)
    assert found is not None and (found.audit_id, found.kind) == (4, "altered")


@pytest.mark.parametrize("position", [0, 5, 8])
def test_a_deleted_row_is_named_by_the_row_after_it(position: int) -> None:
    rows = _chain()
    del rows[position]
    found = verify(rows)
    assert found is not None and (found.audit_id, found.kind) == (position + 2, "deleted")


def test_two_rows_swapped_are_detected_at_the_first() -> None:
    rows = _chain()
    fifth, sixth = rows[4], rows[5]
    rows[4], rows[5] = dataclasses.replace(sixth, audit_id=5), dataclasses.replace(fifth, audit_id=6)
    found = verify(rows)
    assert found is not None and found.audit_id == 5
    assert found.kind == "moved"


def test_rows_listed_out_of_order_are_detected() -> None:
    rows = _chain()
    rows[2], rows[7] = rows[7], rows[2]
    found = verify(rows)
    assert found is not None and found.audit_id == 8


def test_a_row_inserted_with_a_valid_looking_hash_is_named() -> None:
    rows = _chain(5, [1, 2, 4, 5, 6])  # id 3 was rolled back: a gap a forger might fill
    forged_entry = _entries(1)[0]
    forged_hash = row_hash(rows[1].hash or "", canonical(forged_entry, 3, 2))
    rows.insert(2, Row(3, forged_entry, rows[1].hash, forged_hash))
    found = verify(rows)
    assert found is not None and (found.audit_id, found.kind) == (3, "inserted")


def test_a_row_inserted_with_a_made_up_hash_is_named() -> None:
    rows = _chain(5, [1, 2, 4, 5, 6])
    rows.insert(2, Row(3, _entries(1)[0], rows[1].hash, "f" * 64))
    found = verify(rows)
    assert found is not None and (found.audit_id, found.kind) == (3, "altered")


def test_the_walker_streams_and_counts() -> None:
    walker = Walker()
    for row in _chain(2000):
        assert walker.check(row) is None
    assert walker.count == 2000 and walker.last is not None and walker.last.audit_id == 2000
