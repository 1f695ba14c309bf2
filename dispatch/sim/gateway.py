"""A stand-in for the media gateway: snapshots and MJPEG streams of a drawn street, each read authorised by
Callsight's gateway hook (/v1/media/auth) exactly as MediaMTX asks it."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import aiohttp
from aiohttp import web
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger("dispatch.sim.gateway")
W, H, HORIZON = 640, 360, 150
ICT = timedelta(hours=7)
BOUNDARY = "callsightframe"
CALLSIGHT: web.AppKey[str] = web.AppKey("callsight", str)
SESSION: web.AppKey[aiohttp.ClientSession] = web.AppKey("session", aiohttp.ClientSession)
FPS: web.AppKey[float] = web.AppKey("fps", float)
PATH = r"{path:[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*}"


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=512)
def _street(path: str, night: bool) -> Image.Image:
    """The still part of a camera's view: sky, buildings with windows, road and pavement."""
    rng = random.Random(hashlib.sha256(path.encode()).digest())
    img = Image.new("RGB", (W, H))
    draw = ImageDraw.Draw(img)
    top, low = ((12, 16, 34), (40, 44, 70)) if night else ((120, 170, 220), (200, 220, 235))
    for y in range(HORIZON):
        k = y / HORIZON
        draw.line([(0, y), (W, y)], fill=tuple(int(a + (b - a) * k) for a, b in zip(top, low, strict=True)))
    x = 0
    while x < W:
        width, height = rng.randint(50, 110), rng.randint(50, 140)
        shade = rng.randint(70, 150)
        wall = (shade, shade - 10, shade - 25) if not night else (shade // 3, shade // 3, shade // 2)
        draw.rectangle([x, HORIZON - height, x + width, HORIZON], fill=wall)
        for wy in range(HORIZON - height + 8, HORIZON - 10, 16):
            for wx in range(x + 6, x + width - 10, 14):
                lit = rng.random() < (0.55 if night else 0.2)
                draw.rectangle([wx, wy, wx + 7, wy + 9], fill=(250, 220, 120) if lit else (40, 50, 60))
        x += width + rng.randint(0, 6)
    draw.rectangle([0, HORIZON, W, H], fill=(60, 66, 72) if not night else (28, 30, 34))
    vp = W // 2 + rng.randint(-80, 80)
    draw.polygon([(vp - 12, HORIZON), (vp + 12, HORIZON), (W - 40, H), (40, H)], fill=(45, 48, 52))
    for i in range(12):
        a, b = i / 12, (i + 0.5) / 12
        ya, yb = HORIZON + (H - HORIZON) * a * a, HORIZON + (H - HORIZON) * b * b
        xa, xb = vp + (W // 2 - vp) * a, vp + (W // 2 - vp) * b
        draw.line([(xa, ya), (xb, yb)], fill=(220, 220, 200), width=max(1, int(4 * b)))
    return img


def _vehicles(draw: ImageDraw.ImageDraw, path: str, t: float) -> None:
    """Motorbikes and cars moving toward the camera; their places depend only on the time."""
    rng = random.Random(path)
    vp = W // 2 + random.Random(hashlib.sha256(path.encode()).digest()).randint(-80, 80)
    for _ in range(7):
        lane, speed, phase = rng.uniform(-0.8, 0.8), rng.uniform(0.05, 0.12), rng.random()
        car = rng.random() < 0.3
        colour = tuple(rng.randint(40, 230) for _ in range(3))
        p = (t * speed + phase) % 1.0
        y = HORIZON + (H - HORIZON) * p * p
        x = vp + (W // 2 - vp) * p + lane * (W // 2 - 40) * p
        size = 4 + 38 * p
        wide, tall = (size * 1.6, size) if car else (size * 0.5, size * 1.1)
        box = [x - wide / 2, y - tall, x + wide / 2, y]
        draw.rounded_rectangle(box, radius=max(1, size / 5), fill=colour)
        if not car:
            head = size * 0.2
            draw.ellipse([x - head, y - tall - size * 0.45, x + head, y - tall], fill=(30, 30, 30))


def draw_frame(path: str, at: float, box: tuple[float, ...] | None = None, label: str = "") -> bytes:
    """One JPEG of camera `path` at unix time `at`, with a detection box when given."""
    local = datetime.fromtimestamp(at, UTC) + ICT
    img = _street(path, not 6 <= local.hour < 18).copy()
    draw = ImageDraw.Draw(img)
    _vehicles(draw, path, at)
    if box is not None and len(box) == 4:
        x, y, w, h = box
        draw.rectangle([x * W, y * H, (x + w) * W, (y + h) * H], outline=(255, 60, 40), width=3)
        if label:
            draw.text((x * W, max(0, y * H - 20)), label, fill=(255, 90, 60), font=_font(16))
    draw.rectangle([0, 0, W, 30], fill=(0, 0, 0))
    draw.text((8, 6), path, fill=(255, 255, 255), font=_font(18))
    stamp = local.strftime("%Y-%m-%d %H:%M:%S") + f".{int(at * 10) % 10} ICT"
    draw.text((W - 250, 6), stamp, fill=(255, 230, 120), font=_font(18))
    draw.text((8, H - 22), "SIMULATED FEED", fill=(200, 200, 200), font=_font(14))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=72)
    return out.getvalue()


async def authorise(request: web.Request, path: str) -> None:
    """Asks Callsight whether this request may read `path`; raises 401/403 (or 503) when not."""
    username, password = "", ""
    if request.headers.get("Authorization", "").lower().startswith("basic "):
        auth = aiohttp.BasicAuth.decode(request.headers["Authorization"])
        username, password = auth.login, auth.password
    ask = {
        "user": username,
        "password": password,
        "token": request.query.get("token", ""),
        "ip": request.remote or "",
        "action": "read",
        "path": path,
        "protocol": "http",
        "id": str(uuid.uuid4()),
        "query": request.query_string,
    }
    try:
        async with request.app[SESSION].post(request.app[CALLSIGHT] + "/v1/media/auth", json=ask) as answer:
            status = answer.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("authorisation hook unreachable: %s", exc)
        raise web.HTTPServiceUnavailable(text="authorisation unavailable\n") from None
    if 200 <= status < 300:
        return
    if status == 403:
        raise web.HTTPForbidden(text="forbidden\n")
    raise web.HTTPUnauthorized(text="unauthorised\n")


def _box(request: web.Request) -> tuple[float, ...] | None:
    try:
        box = tuple(float(v) for v in request.query.get("box", "").split(",") if v)
    except ValueError:
        return None
    return box if len(box) == 4 and all(0 <= v <= 1 for v in box) else None


async def snapshot(request: web.Request) -> web.Response:
    """One JPEG; `at` (unix s), `box` (x,y,w,h fractions) and `label` draw a detection's moment."""
    path = request.match_info["path"]
    await authorise(request, path)
    try:
        at = float(request.query.get("at", time.time()))
    except ValueError:
        at = time.time()
    jpeg = await asyncio.to_thread(draw_frame, path, at, _box(request), request.query.get("label", "")[:40])
    # A past moment never changes (and its URL carries the token): the browser may keep it a while.
    cache = "private, max-age=600" if "at" in request.query else "no-store"
    return web.Response(body=jpeg, content_type="image/jpeg", headers={"Cache-Control": cache})


async def mjpeg(request: web.Request) -> web.StreamResponse:
    """A multipart/x-mixed-replace stream at about two frames a second, until the viewer leaves."""
    path = request.match_info["path"]
    await authorise(request, path)
    response = web.StreamResponse(
        headers={
            "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    interval = 1.0 / request.app[FPS]
    try:
        while True:
            jpeg = await asyncio.to_thread(draw_frame, path, time.time())
            head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
            await response.write(head.encode() + jpeg + b"\r\n")
            await asyncio.sleep(interval)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response


async def health(request: web.Request) -> web.Response:
    """The simulator is up."""
    return web.json_response({"status": "ok"})


def create_gateway(callsight_url: str, fps: float = 2.0) -> web.Application:
    """The gateway application; it asks `callsight_url` about every read."""
    app = web.Application()
    app[CALLSIGHT] = callsight_url.rstrip("/")
    app[FPS] = fps

    async def session(app: web.Application) -> AsyncIterator[None]:
        app[SESSION] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        yield
        await app[SESSION].close()

    app.cleanup_ctx.append(session)
    app.router.add_get("/healthz", health)
    app.router.add_get(f"/{PATH}/snapshot.jpg", snapshot)
    app.router.add_get(f"/{PATH}/stream.mjpeg", mjpeg)
    return app


async def serve_gateway(callsight_url: str, host: str, port: int, fps: float = 2.0) -> web.AppRunner:
    """Starts the gateway on host:port; the caller cleans up the returned runner."""
    runner = web.AppRunner(create_gateway(callsight_url, fps), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("media gateway simulator on http://%s:%d/{path}/snapshot.jpg|stream.mjpeg", host, port)
    return runner
