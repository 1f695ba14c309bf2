"""Revoked tokens and the open-data API."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from dispatch.app import create_app
from dispatch.auth.tokens import issue, verify
from dispatch.settings import Settings
from tests.integration.conftest import TOKEN_KEY, bearer
from tests.integration.helpers import Client, seed_cameras


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CALLSIGHT_DATABASE_URL": database_url, "CALLSIGHT_TOKEN_SECRET": TOKEN_KEY}
    cli = Path(sys.executable).parent / "callsight"
    return subprocess.run([str(cli), *args], env=env, capture_output=True, text=True, check=True)


async def test_revoked_token_is_cut_off_and_refused(client: Client, database_url: str) -> None:
    token = issue(TOKEN_KEY.encode(), "police", 600, None, "desk-9")
    headers = {"Authorization": f"Bearer {token}"}
    ws = await client.ws_connect("/v1/consoles/ws", headers=headers)
    assert json.loads((await ws.receive()).data)["type"] == "hello"
    token_id = verify(TOKEN_KEY.encode(), token).token_id
    await asyncio.to_thread(_cli, database_url, "token", "revoke", token_id)
    message = await ws.receive(timeout=1.5)
    assert message.type == WSMsgType.CLOSE and message.data == 4001
    assert (await client.get("/v1/cameras/X", headers=headers)).status == 401
    other = issue(TOKEN_KEY.encode(), "police", 600)
    assert (await client.get("/v1/cameras/X", headers={"Authorization": f"Bearer {other}"})).status == 404


async def test_cli_prints_the_token_alone_on_stdout(database_url: str) -> None:
    done = await asyncio.to_thread(
        _cli, database_url, "token", "--agency", "fire", "--count", "3", "--ttl", "15m"
    )
    lines = done.stdout.split()
    assert len(lines) == 3 and all(verify(TOKEN_KEY.encode(), t).role == "fire" for t in lines)
    assert done.stderr.count("token id ") == 3


async def test_open_data_is_off_by_default(client: Client) -> None:
    assert (await client.get("/open/v1/cameras")).status == 404


async def test_open_data_pages_public_cameras_with_keys_and_limits(
    settings: Settings, database_url: str
) -> None:
    key = (await asyncio.to_thread(_cli, database_url, "open-data-key", "city-portal")).stdout.strip()
    app = create_app(settings.model_copy(update={"open_data": True, "open_data_rate": 3}))
    async with TestClient(TestServer(app)) as client:
        await seed_cameras(client)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("UPDATE cameras SET public = camera_id <> 'FAR-AWAY'")
        assert (await client.get("/open/v1/cameras")).status == 401
        assert (await client.get("/open/v1/cameras", headers={"X-API-Key": key + "x"})).status == 401
        first = await (await client.get("/open/v1/cameras?limit=2", headers={"X-API-Key": key})).json()
        ids = [f["properties"]["camera_id"] for f in first["features"]]
        assert ids == ["EAST-LOOKING", "NORTH-DOME"] and "streams" not in str(first)
        second = await (await client.get(first["next"], headers={"X-API-Key": key})).json()
        assert [f["properties"]["camera_id"] for f in second["features"]] == ["WEST-LOOKING"]
        assert (await client.get("/open/v1/cameras", headers={"X-API-Key": key})).status == 200
        limited = await client.get("/open/v1/cameras", headers={"X-API-Key": key})
        assert limited.status == 429 and int(limited.headers["Retry-After"]) >= 1
    with psycopg.connect(database_url) as conn:  # every request naming the key counts, refused ones too
        assert conn.execute("SELECT requests FROM api_keys").fetchone() == (5,)


async def test_api_rate_limit_answers_429(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_per_s": 5.0}))
    async with TestClient(TestServer(app)) as client:
        answers = [await client.get("/v1/cameras/X") for _ in range(8)]
        statuses = [a.status for a in answers]
        assert statuses[:5] == [401] * 5 and 429 in statuses[5:]
        limited = next(a for a in answers if a.status == 429)
        assert limited.headers["Retry-After"] == "1" and limited.content_type == "application/problem+json"
        assert (await client.get("/healthz")).status == 200


async def test_lookup_by_caller_survives_a_key_rotation(settings: Settings) -> None:
    from tests.integration.helpers import call_body, post

    old = create_app(
        settings.model_copy(update={"caller_hash_secret": SecretStr("first-key-0123456789abcdef")})
    )
    async with TestClient(TestServer(old)) as client:
        await post(client, "/v1/calls", call_body("113-ROT-1", number="+84901112223"))
    rotated = settings.model_copy(
        update={
            "caller_hash_secret": SecretStr("second-key-0123456789abcdef"),
            "caller_hash_previous": SecretStr("first-key-0123456789abcdef"),
        }
    )
    async with TestClient(TestServer(create_app(rotated))) as client:
        await post(client, "/v1/calls", call_body("113-ROT-2", number="+84901112223"))
        await post(client, "/v1/calls", call_body("113-ROT-3", number="+84909990000"))
        found = await client.get("/v1/calls?caller_number=%2B84901112223", headers=bearer("police"))
        ids = [i["call_id"] for i in (await found.json())["incidents"]]
        assert ids == ["113-ROT-1", "113-ROT-2"]
        fire = await client.get("/v1/calls?caller_number=%2B84901112223", headers=bearer("fire"))
        assert (await fire.json())["incidents"] == []
        assert (await client.get("/v1/calls?caller_number=x", headers=bearer("police"))).status == 422
