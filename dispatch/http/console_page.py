"""The dispatcher console: its page, the vendored libraries, its config, and the offline base map."""

from __future__ import annotations

import asyncio
import gzip
from functools import cache
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import orjson
from aiohttp import web

from dispatch.context import SETTINGS
from dispatch.problems import Problem
from dispatch.settings import Settings

routes = web.RouteTableDef()
R = TypeVar("R", bound=web.StreamResponse)
STATIC = Path(__file__).resolve().parents[1] / "static"
CONSOLE, VENDOR = STATIC / "console", STATIC / "vendor"
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".html": "text/html"}
_SAFE_FILE = r"[A-Za-z0-9_][A-Za-z0-9._-]*(?:/[A-Za-z0-9_][A-Za-z0-9._-]*)*"


def origin(template: str) -> str:
    """The scheme://host:port of a URL template (media gateway, tile server), or '' when it names none."""
    for slot in ("{path}", "{token}", "{z}", "{x}", "{y}", "{s}", "{r}"):
        template = template.replace(slot, "0")
    parts = urlsplit(template)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


@cache
def content_security_policy(gateway_template: str, tile_template: str = "") -> str:
    """Only this service's own files; images, video and HLS also from the media gateway, and map tiles from
    the city's tile server when one is configured."""
    gateway = origin(gateway_template)
    media = " ".join(filter(None, ["'self'", gateway]))
    images = " ".join(filter(None, [media, origin(tile_template), "data: blob:"]))
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            f"media-src {media} blob:",
            " ".join(filter(None, ["connect-src 'self' ws: wss:", gateway])),
            "worker-src 'self' blob:",
            "font-src 'self'",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def secure(response: R, settings: Settings) -> R:
    """Adds the console's own headers; dispatch.hardening adds those every answer carries."""
    policy = content_security_policy(settings.media_gateway, _tile_url(settings))
    response.headers["Content-Security-Policy"] = policy
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


def _tile_url(settings: Settings) -> str:
    return settings.tile_url


def _file(folder: Path, name: str) -> Path:
    """A file inside `folder`, or 404 (never a path outside it)."""
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise Problem(404, "Not found", f"No file {name!r} here.")
    return path


def _serve(request: web.Request, path: Path) -> web.StreamResponse:
    response = web.FileResponse(path)
    content_type = _TYPES.get(path.suffix)
    if content_type:
        response.content_type = content_type
    return secure(response, request.app[SETTINGS])


@routes.get("/console")
async def console_redirect(request: web.Request) -> web.Response:
    """The page lives at /console/ so that its relative module paths resolve."""
    query = f"?{request.query_string}" if request.query_string else ""
    raise web.HTTPMovedPermanently(location=f"/console/{query}")


@routes.get("/console/")
async def console_index(request: web.Request) -> web.StreamResponse:
    """The console page."""
    response = _serve(request, _file(CONSOLE, "index.html"))
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/console/config.json")
async def console_config(request: web.Request) -> web.Response:
    """What the page needs to know before it draws: the tile server, if the city has one."""
    response = web.json_response({"tile_url": _tile_url(request.app[SETTINGS]) or None})
    return secure(response, request.app[SETTINGS])


@routes.get("/console/{file:" + _SAFE_FILE + "}")
async def console_file(request: web.Request) -> web.StreamResponse:
    """The page's scripts and styles."""
    return _serve(request, _file(CONSOLE, request.match_info["file"]))


@routes.get("/static/vendor/{file:" + _SAFE_FILE + "}")
async def vendor_file(request: web.Request) -> web.StreamResponse:
    """Libraries copied from npm packages by scripts/lib/frontend.sh (never a CDN)."""
    return _serve(request, _file(VENDOR, request.match_info["file"]))


@cache
def _base_map() -> tuple[bytes, bytes]:
    """The demo city's streets and ward outlines as JSON, plain and gzipped; built once."""
    from dispatch.demo_city import areas, streets

    body = orjson.dumps({"streets": streets(), "areas": areas()})
    return body, gzip.compress(body, 6)


@routes.get("/v1/map/base")
async def base_map(request: web.Request) -> web.Response:
    """A plain base layer so that the map is never blank offline: {"streets": GeoJSON, "areas": GeoJSON}."""
    plain, packed = await asyncio.to_thread(_base_map)
    response = web.Response(content_type="application/json")
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.body = packed
        response.headers["Content-Encoding"] = "gzip"
    else:
        response.body = plain
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return secure(response, request.app[SETTINGS])
