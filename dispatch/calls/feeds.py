"""Feed URLs for the media gateway, each carrying a token bound to cameras, a console and an expiry."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from dispatch.auth.tokens import issue_feed

# Frames are serialised once per audience with this stand-in; each console's own token replaces it.
TOKEN_SLOT = "@@FEED_TOKEN@@"


def feed(template: str, path: str, token: str, expires_at: str) -> dict[str, Any]:
    """The feed object of one camera: HLS when the gateway serves it, a snapshot and MJPEG always."""
    base = template.split("{path}", 1)[0]
    hls = None
    if ".m3u8" in template:
        hls = _with_token(template.replace("{path}", path), token)
    return {
        "hls": hls,
        "snapshot": _with_token(f"{base}{path}/snapshot.jpg", token),
        "mjpeg": _with_token(f"{base}{path}/stream.mjpeg", token),
        "expires_at": expires_at,
    }


def _with_token(url: str, token: str) -> str:
    if "{token}" in url:
        return url.replace("{token}", token)
    return f"{url}{'&' if '?' in url else '?'}token={token}"


def expiry(ttl_s: int) -> tuple[int, str]:
    """A feed expiry as unix seconds and as RFC 3339."""
    expires = int(time.time()) + ttl_s
    return expires, datetime.fromtimestamp(expires, UTC).isoformat()


def incident_token(key: bytes, console: str, incident: uuid.UUID, expires: int) -> str:
    """The token one console's frame carries: it opens the feeds of the incident's current cameras."""
    return issue_feed(key, console, expires, incident=incident)


def paths_token(key: bytes, console: str, paths: list[str], expires: int) -> str:
    """The token of a query answer, which belongs to no incident: it opens these gateway paths."""
    return issue_feed(key, console, expires, paths=paths)
