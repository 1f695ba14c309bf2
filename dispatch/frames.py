"""Console frames: serialised once per audience, then stamped per console with its seq and feed token."""

from __future__ import annotations

from typing import Any

import orjson

from dispatch.auth.tokens import FeedTokens
from dispatch.calls.feeds import TOKEN_SLOT, expiry, feed
from dispatch.detections.policy import Policy, visible
from dispatch.settings import Settings
from dispatch.storage.events import Event
from dispatch.streams import Frame

_SLOT = TOKEN_SLOT.encode()


def with_feeds(
    cameras: list[dict[str, Any]], template: str, token: str, expires_at: str
) -> list[dict[str, Any]]:
    """Stored camera entries as clients see them: the gateway path replaced by a feed object."""
    shown = []
    for camera in cameras:
        entry = {k: v for k, v in camera.items() if k != "feed_path"}
        path = camera.get("feed_path")
        entry["feed"] = feed(template, path, token, expires_at) if path else None
        shown.append(entry)
    return shown


def feed_paths(cameras: list[dict[str, Any]]) -> list[str]:
    """The gateway paths a frame's feed token must open."""
    return [c["feed_path"] for c in cameras if c.get("feed_path")]


class Rendered:
    """One event for one audience: the body without seq, and what each console's token must open."""

    __slots__ = ("expires", "parts", "paths", "tokens")

    def __init__(self, body: bytes, paths: list[str], expires: int, tokens: FeedTokens | None) -> None:
        # Cut once at the opening brace (where each console's seq goes) and at each token slot, so that a
        # console's frame is one join: no search through the body and no copies per console.
        self.parts = body[1:].split(_SLOT) if tokens else [body[1:]]
        self.paths = paths
        self.expires = expires
        self.tokens = tokens

    def stamp(self, seq: int, console: str) -> Frame:
        """The frame for one console, with its own feed token: its head and its body, written as they are
        (joining them would copy each console's frame once more)."""
        head = b'{"seq":%d,' % seq
        if self.tokens is None:
            return head, self.parts[0]
        return head, self.tokens.encoded(console).join(self.parts)


def render(event: Event, settings: Settings, policy: Policy, role: str) -> Rendered | None:
    """Serialises an event once for one agency; None when that agency may not see it at all."""
    payload = dict(event.payload)
    if event.type == "detection":
        shown = visible(policy, role, payload["detection"])
        if shown is None:
            return None
        payload["detection"] = shown
    cameras = payload.get("cameras", [])
    expires, expires_at = expiry(settings.feed_token_ttl_s)
    frame: dict[str, Any] = {"type": event.type, "event_id": str(event.event_id), **payload}
    if "cameras" in payload:
        frame["cameras"] = with_feeds(cameras, settings.media_gateway, TOKEN_SLOT, expires_at)
        frame["detections"] = allowed(policy, role, payload.get("detections", []))
    paths = feed_paths(cameras)
    tokens = None
    if paths and event.incident_id is not None:
        tokens = FeedTokens(settings.token_key, expires, incident=event.incident_id)
    return Rendered(orjson.dumps(frame), paths, expires, tokens)


def allowed(policy: Policy, role: str, detections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The detections this agency may see, with the fields it may see."""
    return [shown for d in detections if (shown := visible(policy, role, d)) is not None]


def control(kind: str, seq: int, **fields: Any) -> bytes:
    """A frame that is not an event: heartbeat, hello, reset."""
    return orjson.dumps({"type": kind, "seq": seq, **fields})
