"""Replaying missed events to one console: rendered once per audience, audited and sent in slices."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from dispatch.audit.writer import Auditor, plain
from dispatch.detections.policy import Policy
from dispatch.frames import Rendered, render
from dispatch.settings import Settings
from dispatch.storage.events import Event
from dispatch.streams import Connection, Stream

# Events per audit row: a resume can replay a whole buffer (thousands of events) to each of many consoles,
# and a row per event overflowed the audit queue when 50 supervisors resumed at once.
SLICE = 200
# Frames written between turns of the event loop, so that a long replay never keeps calls waiting.
TURN = 32
# Renders kept for replays: consoles of one agency resuming together share them.
CACHED = 4096


class Replays:
    """Sends a console what it missed, in order, waiting for room on its socket."""

    def __init__(self, settings: Settings, policy: Policy, auditor: Auditor) -> None:
        self.settings = settings
        self.policy = policy
        self.auditor = auditor
        self._rendered: OrderedDict[tuple[int, str], Rendered | None] = OrderedDict()

    def rendered(self, event: Event, role: str) -> Rendered | None:
        """The event as this agency sees it (None: not at all), rendered again only when its tokens age."""
        key = (event.event_id, role)
        if key in self._rendered:
            cached = self._rendered[key]
            if cached is None or cached.expires - time.time() > self.settings.feed_token_ttl_s / 2:
                return cached
        rendered = self._rendered[key] = render(event, self.settings, self.policy, role)
        self._rendered.move_to_end(key)
        if len(self._rendered) > CACHED:
            self._rendered.popitem(last=False)
        return rendered

    async def send(self, stream: Stream, conn: Connection, missed: list[tuple[int, Event]]) -> bool:
        """Writes the missed events; False when room on the socket never came (the console is not reading)."""
        role, name = stream.principal.role, stream.principal.name
        for start in range(0, len(missed), SLICE):
            shown = [
                (seq, event, rendered)
                for seq, event in missed[start : start + SLICE]
                if (rendered := self.rendered(event, role)) is not None
            ]
            self._disclose(stream, [(event, rendered) for _, event, rendered in shown])
            for n, (seq, _, rendered) in enumerate(shown, 1):
                if not await conn.put(rendered.stamp(seq, name)):
                    return False
                if n % TURN == 0:
                    await asyncio.sleep(0)
        return True

    def _disclose(self, stream: Stream, shown: list[tuple[Event, Rendered]]) -> None:
        # One row per kind of event in a slice, written before the frames go out, naming every event it
        # replays, their incidents and the feeds their tokens open.
        by_action: dict[str, list[tuple[Event, Rendered]]] = {}
        for item in shown:
            by_action.setdefault(delivered_action(item[0]), []).append(item)
        for action, events in by_action.items():
            subject: dict[str, object] = {
                "event_ids": [event.event_id for event, _ in events],
                "incidents": sorted({str(e.incident_id) for e, _ in events if e.incident_id}),
                "consoles": [stream.audit_name],
                "replay": True,
            }
            detections = [e.payload["detection"]["detection_id"] for e, _ in events if e.type == "detection"]
            if detections:
                subject["detection_ids"] = plain(detections)
            paths = sorted({path for _, rendered in events for path in rendered.paths})
            if paths:
                expires = max(rendered.expires for _, rendered in events)
                subject["feeds"] = {"cameras": plain(paths), "expires": expires}
            principal = stream.principal
            reason = f"resume: {len(events)} missed events"
            self.auditor.record(principal.name, principal.role, action, subject, reason, plain_subject=True)


def delivered_action(event: Event) -> str:
    """The audit action of a delivery."""
    return "detection.delivered" if event.type == "detection" else "incident.delivered"
