"""The event loop the service runs on, as the settings choose it."""

from __future__ import annotations

import asyncio
from typing import Literal

import uvloop


def new_event_loop(kind: Literal["uvloop", "asyncio"]) -> asyncio.AbstractEventLoop:
    """A new loop of the chosen kind: uvloop's transports write from C, so each console's send costs less."""
    return uvloop.new_event_loop() if kind == "uvloop" else asyncio.new_event_loop()
