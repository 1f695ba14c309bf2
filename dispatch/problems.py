"""RFC 9457 problem documents: every error the service answers, as data."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from pydantic import ValidationError

log = logging.getLogger(__name__)
PROBLEM_TYPE = "https://callsight.invalid/problems/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Problem(Exception):
    """An error answer: raise it anywhere in a handler and the middleware renders it."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        slug: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug or title.lower().replace(" ", "-")
        self.errors = errors
        self.headers = headers or {}

    def response(self, instance: str) -> web.Response:
        """The problem as an application/problem+json response."""
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return web.Response(
            status=self.status,
            body=orjson.dumps(body),
            content_type="application/problem+json",
            headers=self.headers,
        )


def invalid(errors: list[dict[str, Any]], detail: str = "The request has invalid fields.") -> Problem:
    """A 422 naming each bad field."""
    return Problem(422, "Invalid request", detail, slug="validation", errors=errors)


def from_validation(exc: ValidationError, prefix: str = "") -> Problem:
    """A pydantic error as a 422 that names every bad field."""
    errors = [
        {"field": prefix + ".".join(str(part) for part in err["loc"]), "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    return invalid(errors)


def unauthorized(detail: str) -> Problem:
    """A 401 that tells the client how to authenticate."""
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="callsight"'})


def unavailable(detail: str, retry_after_s: int = 2) -> Problem:
    """A 503 telling the sender to retry."""
    return Problem(503, "Service unavailable", detail, headers={"Retry-After": str(retry_after_s)})


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turns every failure into a problem document; nothing leaves as an HTML error page."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem.response(request.path)
    except ValidationError as exc:
        return from_validation(exc).response(request.path)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        title = exc.reason or "Error"
        return Problem(exc.status, title, exc.text or title).response(request.path)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return Problem(500, "Internal error", "The service failed; the error is logged.").response(
            request.path
        )
