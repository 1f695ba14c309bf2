"""Degraded mode: while the database is away, a call is still matched and pushed to this instance's consoles.

The sender is answered 503 and retries; once stored, the call's incident keeps the same identity (derived from
the call id), so consoles see the stored incident replace the degraded one instead of a second incident.
"""

from __future__ import annotations

import itertools
import logging
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from dispatch.hub import Hub
from dispatch.metrics import Metrics
from dispatch.storage.calls import NewCall
from dispatch.storage.events import Event

log = logging.getLogger(__name__)
REMEMBERED = 10_000


class Degraded:
    """Pushes each unstored call once, with negative event ids that never clash with stored ones."""

    def __init__(self, hub: Hub, metrics: Metrics) -> None:
        self.hub = hub
        self.metrics = metrics
        self.pushed: OrderedDict[str, None] = OrderedDict()
        self.ids = itertools.count(-1, -1)

    def publish(self, new: NewCall) -> None:
        """Announces a call that could not be stored (retries of it are not announced again)."""
        if new.call_id in self.pushed:
            return
        self.pushed[new.call_id] = None
        if len(self.pushed) > REMEMBERED:
            self.pushed.popitem(last=False)
        now = datetime.now(UTC)
        event = Event(
            next(self.ids),
            now,
            "incident.opened",
            new.incident_id,
            new.hotline,
            new.area,
            {"incident": _fields(new, now), "cameras": new.cameras, "detections": []},
        )
        self.hub.publish(event)
        self.metrics.degraded_pushes.inc()
        log.warning("database unavailable: call %s pushed in degraded mode", new.call_id)


def _fields(new: NewCall, now: datetime) -> dict[str, Any]:
    return {
        "incident_id": str(new.incident_id),
        "call_id": new.call_id,
        "hotline": new.hotline,
        "status": "open",
        "opened_at": now.isoformat(),
        "updated_at": now.isoformat(),
        "degraded": True,
        "location": new.location,
        "area": new.area,
    }
