"""Demo simulators: a media gateway that draws frames, and senders of signed calls and detections."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp

from dispatch.auth.signing import signed_headers

log = logging.getLogger("dispatch.sim")


class Sender:
    """Posts signed JSON to Callsight as one named sender."""

    def __init__(self, session: aiohttp.ClientSession, url: str, name: str, secret: str) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.name = name
        self.secret = secret.encode()

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """The status and JSON answer of a signed POST (status 0 when Callsight is unreachable)."""
        raw = json.dumps(body).encode()
        headers = {**signed_headers(self.name, self.secret, raw), "Content-Type": "application/json"}
        try:
            async with self.session.post(self.url + path, data=raw, headers=headers) as response:
                answer = await response.json(content_type=None)
                return response.status, answer
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("POST %s failed: %s", path, exc)
            return 0, None

    async def wait_ready(self, timeout_s: float = 300.0) -> None:
        """Waits until Callsight answers /readyz with 200."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                async with self.session.get(self.url + "/readyz") as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(1.0)
        raise TimeoutError(f"Callsight at {self.url} was not ready within {timeout_s:.0f} s")
