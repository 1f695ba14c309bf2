"""Real PostgreSQL + PostGIS: a throw-away database per session, clean tables per test, a real HTTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from scratch_db import scratch_database

from dispatch.app import create_app
from dispatch.auth.signing import signed_headers
from dispatch.auth.tokens import issue
from dispatch.settings import Settings

SENDER, SECRET = "telephony", "test-sender-secret"
TOKEN_KEY = "test-token-key-0123456789abcdef0123456789"
TABLES = ("audit", "events", "detections", "call_locations", "calls", "cameras")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database with PostGIS, migrated to head, dropped after the session."""
    with scratch_database("callsight_test") as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own secrets and data folder."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE " + ", ".join(TABLES) + " RESTART IDENTITY CASCADE")
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        webhook_secrets=f"{SENDER}={SECRET}",
        token_secret=TOKEN_KEY,
        caller_hash_secret="test-caller-key",
        heartbeat_s=0.5,
    )


@pytest.fixture
async def app(settings: Settings) -> web.Application:
    return create_app(settings)


@pytest.fixture
async def client(app: web.Application) -> AsyncIterator[TestClient[Any, Any]]:
    """A real HTTP client against the app served on a loopback port."""
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def signed(
    body: bytes, sender: str = SENDER, secret: str = SECRET, now: float | None = None
) -> dict[str, str]:
    """Headers of a correctly signed request."""
    headers = signed_headers(sender, secret.encode(), body, now)
    headers["Content-Type"] = "application/json"
    return headers


def bearer(
    role: str, areas: list[str] | None = None, ttl_s: int = 600, name: str | None = None
) -> dict[str, str]:
    """Authorization header for a person with `role`."""
    return {"Authorization": "Bearer " + issue(TOKEN_KEY.encode(), role, ttl_s, areas, name)}  # type: ignore[arg-type]
