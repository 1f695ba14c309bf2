"""The aiohttp application: routes, middlewares, and every long-lived resource in cleanup contexts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import asyncpg
from aiohttp import web

from dispatch.audit.writer import Auditor
from dispatch.calls.degraded import Degraded
from dispatch.calls.pipeline import Pipeline
from dispatch.calls.retention import run_call_retention
from dispatch.camera_index import LiveIndex
from dispatch.context import AUDITOR, BACKENDS, HUB, INDEX, METRICS, PIPELINE, POLICY, POOL, REVOKED, SETTINGS
from dispatch.detections.hook import DETECTIONS_HOOK
from dispatch.detections.model import DetectionIn
from dispatch.detections.policy import load_policy
from dispatch.detections.push import push, retire
from dispatch.hardening import security_headers
from dispatch.http import calls, cameras, console_page, consoles, detections, media, open_data, ops, query
from dispatch.hub import Hub
from dispatch.listener import Listener
from dispatch.metrics import Metrics
from dispatch.mqtt import FrigateBridge
from dispatch.problems import problem_middleware
from dispatch.ratelimit import rate_limit
from dispatch.settings import Settings
from dispatch.shedding import shedding
from dispatch.storage import access as access_store
from dispatch.storage import calls as call_store
from dispatch.storage import cameras as camera_store
from dispatch.storage import events as event_store
from dispatch.storage.db import StorageUnavailable, connection, create_pool
from dispatch.storage.detections import plan_recent
from geo.crs import Projector

log = logging.getLogger(__name__)
OWN_EVENT_GRACE_S = 1.0


async def _pool(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[BACKENDS] = set()
    app[POOL] = await create_pool(settings.dsn, settings.db_pool_min, settings.db_pool_max, app[BACKENDS])
    await _plan_statements(app[POOL], settings)
    yield
    await app[POOL].close()


async def _plan_statements(pool: asyncpg.Pool, settings: Settings) -> None:
    # The connections opened at start; one opened later under load plans its own, a call at a time.
    held = [await pool.acquire() for _ in range(settings.db_pool_min)]
    try:
        await asyncio.gather(*(_plan_connection(conn, settings.max_cameras) for conn in held))
    finally:
        for conn in held:
            await pool.release(conn)


async def _plan_connection(conn: asyncpg.Connection, max_cameras: int) -> None:
    await plan_recent(conn, max_cameras)
    await call_store.plan_open(conn, max_cameras)


async def _stopping(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception:
            # Shutdown goes on whatever a background task died of; the failure is logged, not raised.
            log.exception("background task %s failed", task.get_name())


async def _audit(app: web.Application) -> AsyncIterator[None]:
    auditor = app[AUDITOR] = Auditor()
    writing = asyncio.create_task(auditor.run(app[POOL]), name="audit")
    yield
    auditor.stop()  # run() writes what is pending, then returns
    await writing


async def _index(app: web.Application) -> AsyncIterator[None]:
    live, pool = app[INDEX], app[POOL]
    await live.load(pool)
    follower = asyncio.create_task(live.follow(pool), name="camera-index")
    yield
    await _stopping([follower])


async def _hub(app: web.Application) -> AsyncIterator[None]:
    pool = app[POOL]

    hub = app[HUB] = Hub(app[SETTINGS], app[METRICS], event_store.EventTable(pool), app[POLICY], app[AUDITOR])
    async with connection(pool) as conn:
        hub.start_at(await event_store.latest_id(conn))
    app[PIPELINE] = Pipeline(app[SETTINGS], pool, app[INDEX], hub, Degraded(hub, app[METRICS]))

    async def announce(new: list[DetectionIn]) -> None:
        await push(pool, hub, new)

    if DETECTIONS_HOOK not in app:  # tests may put their own recorder here
        app[DETECTIONS_HOOK] = announce
    background = [
        asyncio.create_task(hub.run_heartbeats(), name="heartbeats"),
        asyncio.create_task(retire(pool, app[SETTINGS].detection_retention_s), name="retention"),
        asyncio.create_task(run_call_retention(pool, app[SETTINGS].call_retention_s), name="call-retention"),
    ]
    yield
    await hub.close_all()
    await _stopping(background)


async def _fetch_announced(pool: asyncpg.Pool, hub: Hub, event_id: int, grace_s: float) -> None:
    """Reads an announced event not yet published here (after `grace_s`) and publishes it, retrying while the
    database is away."""
    await asyncio.sleep(grace_s)
    if event_id in hub.seen:
        return
    for delay in (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, None):
        try:
            async with connection(pool) as conn:
                event = await event_store.get(conn, event_id)
            break
        except StorageUnavailable:
            if delay is None:
                log.warning("event %d announced but unreadable; the next catch-up has it", event_id)
                hub.unannounced(event_id)
                return
            await asyncio.sleep(delay)
    if event is not None:
        hub.publish(event)


async def _listener(app: web.Application) -> AsyncIterator[None]:
    live, hub, pool = app[INDEX], app[HUB], app[POOL]
    fetches: set[asyncio.Task[None]] = set()

    def on_event(pid: int, payload: str) -> None:
        # Another instance stored this event, or this one did: then the request that stored it publishes it
        # right after the commit, and the NOTIFY often comes first. Read back only what is still unpublished
        # a moment later, a safety net rather than a second read of every event.
        if int(payload) not in hub.seen:
            grace_s = OWN_EVENT_GRACE_S if pid in app[BACKENDS] else 0.0
            task = asyncio.get_running_loop().create_task(_fetch_announced(pool, hub, int(payload), grace_s))
            fetches.add(task)
            task.add_done_callback(fetches.discard)

    def on_revoked(_pid: int, token_id: str) -> None:
        app[REVOKED].add(token_id)
        hub.revoke(token_id)

    async with connection(pool) as conn:
        app[REVOKED].update(await access_store.revoked_ids(conn))
    channels = {
        camera_store.CHANNEL: lambda _pid, payload: live.notified(payload),
        event_store.CHANNEL: on_event,
        access_store.REVOKED_CHANNEL: on_revoked,
    }

    async def reconnected() -> None:
        # Notifications sent while LISTEN was down are lost: reload cameras, publish the missed events.
        await live.load(pool)
        if caught := await hub.catch_up():
            log.info("published %d events missed while LISTEN reconnected", caught)

    def checkpoint() -> Callable[[], None]:
        # Taken before the listener probes its connection: when the probe answers, the NOTIFYs of every event
        # committed before it (all ids up to here, since ids follow commit order) have been received.
        upto = hub.last_event_id
        return lambda: hub.confirm(upto)

    listener = Listener(app[SETTINGS].dsn, channels, reconnected, checkpoint)
    listening = asyncio.create_task(listener.run(), name="listener")
    await asyncio.wait_for(listener.connected.wait(), timeout=10)
    yield
    await _stopping([listening, *fetches])


async def _frigate(app: web.Application) -> AsyncIterator[None]:
    """The Frigate MQTT bridge, when CALLSIGHT_MQTT_URL is set; it reconnects by itself."""
    settings = app[SETTINGS]
    url = settings.mqtt_url.get_secret_value()
    if not url:
        yield
        return
    bridge = FrigateBridge(app[POOL], app)
    # start() checks the URL and the camera mapping now: a wrong configuration stops start-up.
    bridging = bridge.start(url, settings.frigate_topic, settings.frigate_cameras, settings.frigate_frame)
    yield
    await _stopping([bridging])


async def _tell_consoles(app: web.Application) -> None:
    # On SIGTERM: consoles reconnect elsewhere (close code 1012) and resume, instead of holding shutdown.
    if HUB in app:
        await app[HUB].close_all()


def create_app(settings: Settings | None = None) -> web.Application:
    """A ready-to-run application; resources start with the runner and stop in reverse order."""
    settings = settings or Settings()
    metrics = Metrics()
    app = web.Application(
        middlewares=[
            security_headers,
            metrics.middleware(),
            problem_middleware,
            rate_limit(settings.rate_limit_per_s),
            shedding(settings.max_inflight),
        ],
        client_max_size=settings.import_body_limit,
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[POLICY] = load_policy(settings.policy_file)
    app[REVOKED] = set()
    app[INDEX] = LiveIndex(Projector(settings.metric_crs))
    app.cleanup_ctx.extend([_pool, _audit, _index, _hub, _listener, _frigate])
    app.on_shutdown.append(_tell_consoles)
    if settings.open_data:
        open_data.enable(app)
    for module in (ops, query, cameras, calls, consoles, media, detections, console_page):
        app.add_routes(module.routes)
    return app
