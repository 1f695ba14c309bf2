"""The recorder never waits: it queues, bounds what it holds, and stores subjects in a hash-stable form."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.audit.writer import Auditor, entry


def test_record_queues_without_a_database_and_counts_what_it_drops() -> None:
    auditor = Auditor(max_pending=10)
    for i in range(15):
        auditor.record("console-1", "police", "feed.granted", {"camera_id": f"CAM-{i}"}, "incident i-1")
    assert len(auditor.pending) == 10 and auditor.dropped == 5
    assert [e.subject["camera_id"] for e in auditor.pending][-1] == "CAM-9"


def test_entries_are_stamped_in_utc_and_made_jsonb_stable() -> None:
    before = datetime.now(UTC)
    made = entry("a\x00b", None, "call.viewed", {"n": 1e20, "f": 2.5, "t": ("x", 3, True, None)}, None)
    assert made.at >= before and made.at.tzinfo is not None
    assert made.actor == "a\ufffdb"
    assert made.subject == {"n": "1e+20", "f": "2.5", "t": ["x", 3, True, None]}
