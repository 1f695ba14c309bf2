"""Who may call an endpoint: read the bounded body, then check a signature or a bearer token."""

from __future__ import annotations

from aiohttp import web

from dispatch.auth import signing, tokens
from dispatch.auth.tokens import Principal
from dispatch.context import REVOKED
from dispatch.problems import Problem, unauthorized
from dispatch.settings import Settings


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw body, or 413 when it is larger than `limit` (checked before and while reading)."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(413, "Body too large", f"The body is larger than {limit} bytes.", slug="too-large")


def bearer(request: web.Request) -> str | None:
    """The bearer token from the Authorization header or, for browsers, the access_token parameter."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query.get("access_token")


def person(request: web.Request, settings: Settings) -> Principal:
    """The person holding a valid bearer token, or 401."""
    token = bearer(request)
    if not token:
        raise unauthorized("Present a bearer token (Authorization: Bearer ...).")
    principal = tokens.verify(settings.token_key, token)
    if principal.token_id in request.app.get(REVOKED, ()):
        raise unauthorized("The token has been revoked.")
    return principal


def caller(request: web.Request, body: bytes, settings: Settings) -> Principal:
    """A signed sender when the request carries a signature, else a token holder."""
    if "X-Callsight-Signature" in request.headers or "X-Callsight-Sender" in request.headers:
        name = signing.verify(request.headers, body, settings.senders, settings.signature_window_s)
        return Principal(name=name, role="sender")
    return person(request, settings)


def require_sender(request: web.Request, body: bytes, settings: Settings) -> Principal:
    """Only a signed system sender may make this write."""
    if "X-Callsight-Signature" not in request.headers and "X-Callsight-Sender" not in request.headers:
        raise unauthorized("This endpoint takes signed requests (X-Callsight-Signature).")
    return caller(request, body, settings)


def require_writer(request: web.Request, body: bytes, settings: Settings) -> Principal:
    """A signed sender or an admin token may write the registry."""
    principal = caller(request, body, settings)
    if not principal.is_sender and principal.role != "admin":
        raise Problem(403, "Forbidden", "Only admin tokens or signed senders may write the registry.")
    return principal
