"""Prometheus metrics: request counts and latency per route, pool use, what the pipeline did."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

PUSH_BUCKETS = tuple(
    ms / 1000 for ms in (0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100, 250, 1000)
)
# Parsing a call and writing frames kept back take well under 0.5 ms: finer buckets keep them apart.
PHASE_BUCKETS = (0.00005, 0.0001, 0.00025, *PUSH_BUCKETS)
ARRIVED = web.RequestKey("arrived", float)  # perf_counter when the request reached the service
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Metrics:
    """One registry per application, so that tests can run several side by side."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "callsight_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "callsight_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.pool_size = Gauge("callsight_db_pool_size", "Open database connections", registry=self.registry)
        self.pool_idle = Gauge("callsight_db_pool_idle", "Idle database connections", registry=self.registry)
        self.cameras = Gauge(
            "callsight_index_cameras", "Cameras in the in-process index", registry=self.registry
        )
        self.consoles = Gauge(
            "callsight_consoles", "Console connections attached to the hub", registry=self.registry
        )
        self.events = Counter(
            "callsight_events_published", "Events sent to consoles", ["type"], registry=self.registry
        )
        self.dropped_consoles = Counter(
            "callsight_consoles_cut_off", "Consoles disconnected for not reading", registry=self.registry
        )
        self.read_back = Counter(
            "callsight_resume_read_back_events",
            "Missed events a resume read back from the events table, no longer kept in memory",
            registry=self.registry,
        )
        self.degraded_pushes = Counter(
            "callsight_degraded_pushes",
            "Calls pushed to consoles while the database was away",
            registry=self.registry,
        )
        self.call_push = Histogram(
            "callsight_call_push_seconds",
            "From a new call's request arriving to its incident.opened written to every addressed console",
            registry=self.registry,
            buckets=PUSH_BUCKETS,
        )
        self.call_phases = Histogram(
            "callsight_call_phase_seconds",
            "Where a new call's push time goes: parse, match, store (look-back and commit), fanout (render, "
            "stamp, send), write (frames kept back to share a send with other events of the same turn)",
            ["phase"],
            registry=self.registry,
            buckets=PHASE_BUCKETS,
        )
        self.match_failures = Counter(
            "callsight_match_failures", "Matches that failed open", registry=self.registry
        )

    def clock(self, arrived: float | None) -> CallClock:
        """Times one new call's path, in phases, from its request's arrival (perf_counter)."""
        return CallClock(self, arrived)

    def render(self) -> web.Response:
        """The Prometheus text exposition."""
        response = web.Response(body=generate_latest(self.registry))
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    def middleware(self) -> Middleware:
        """Counts and times every request by its route pattern (not its path, to bound cardinality)."""

        @web.middleware
        async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
            started = request[ARRIVED] = time.perf_counter()
            route = request.match_info.route.resource
            name = route.canonical if route is not None else "unmatched"
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            finally:
                self.latency.labels(request.method, name).observe(time.perf_counter() - started)
                self.requests.labels(request.method, name, str(status)).inc()

        return measure


class CallClock:
    """Laps of one call's path; observed together once its frames are written, so a call that is not pushed
    (a retry, a failed commit) leaves no partial figures. Without an arrival time it measures nothing."""

    def __init__(self, metrics: Metrics, arrived: float | None) -> None:
        self.metrics = metrics
        self.arrived = self.last = arrived
        self.laps: list[tuple[str, float]] = []

    def lap(self, phase: str) -> None:
        """Ends a phase now."""
        if self.last is not None:
            now = time.perf_counter()
            self.laps.append((phase, now - self.last))
            self.last = now

    def written(self) -> None:
        """The frames are written: the last phase ends and every figure is observed."""
        if self.arrived is None:
            return
        self.lap("write")
        for phase, seconds in self.laps:
            self.metrics.call_phases.labels(phase).observe(seconds)
        self.metrics.call_push.observe(sum(seconds for _, seconds in self.laps))
