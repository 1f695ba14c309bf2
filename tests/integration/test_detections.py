"""AI detections over real HTTP and PostGIS: batches, idempotent retries, limits, recent() and retention."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dispatch.app import create_app
from dispatch.context import INDEX, POOL
from dispatch.detections.hook import DETECTIONS_HOOK
from dispatch.detections.model import DetectionIn, to_record
from dispatch.http import detections
from dispatch.settings import Settings
from dispatch.storage import detections as store
from tests.integration.conftest import bearer, signed
from tests.integration.helpers import Client, call_body, post, seed_cameras

PATH = "/v1/detections"
NOW = datetime.now(UTC).replace(microsecond=0)
HCMC = timezone(timedelta(hours=7))
Pushed = list[list[str]]


def det(detection_id: str, camera_id: str = "EAST-LOOKING", ago_s: float = 5, **extra: Any) -> dict[str, Any]:
    """A valid detection `ago_s` seconds old, as a sender posts it (time in +07:00)."""
    # Now, not the module's import time: the suite may reach this test minutes after collecting it.
    at = (datetime.now(UTC) - timedelta(seconds=ago_s)).astimezone(HCMC).isoformat()
    return {"detection_id": detection_id, "camera_id": camera_id, "detected_at": at, "kind": "vehicle",
            "label": "car", "confidence": 0.8, "box": [0.1, 0.2, 0.3, 0.4], **extra}


@pytest.fixture
def pushed() -> list[list[str]]:
    return []


@pytest.fixture
async def app(settings: Settings, pushed: Pushed) -> web.Application:
    """The real application with the detection routes, and a hook recording what would reach the hub."""
    application = create_app(settings)
    if not any(r.resource is not None and r.resource.canonical == PATH for r in application.router.routes()):
        application.router.add_routes(detections.routes)

    async def hook(items: list[DetectionIn]) -> None:
        pushed.append([item.detection_id for item in items])
        if any(item.detection_id.startswith("boom") for item in items):
            raise RuntimeError("hub is down")

    application[DETECTIONS_HOOK] = hook
    return application


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to the test database, whose tables the settings fixture emptied."""
    conn = await asyncpg.connect(settings.database_url)
    yield conn
    await conn.close()


async def stored_ids(db: asyncpg.Connection) -> list[str]:
    return [row[0] for row in await db.fetch("SELECT detection_id FROM detections ORDER BY detection_id")]


async def test_batch_stores_valid_items_and_lists_each_rejection(client: Client, db: Any,
                                                                 pushed: Pushed) -> None:
    await seed_cameras(client)
    batch = [det("a"), det("b", camera_id="NOPE"), det("c", kind="dog"), det("d", confidence=1.5),
             det("e", box=[0.9, 0.1, 0.2, 0.1]), det("f", ago_s=-120), {"camera_id": "EAST-LOOKING"},
             det("a"), det("g", camera_id="NORTH-DOME", kind="fire")]
    response = await post(client, PATH, {"detections": batch})
    assert response.status == 200
    answer = await response.json()
    assert (answer["accepted"], answer["duplicates"]) == (2, 0)
    reasons = {r["index"]: (r["detection_id"], r["reason"]) for r in answer["rejected"]}
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6, 7]
    assert "unknown camera 'NOPE'" in reasons[1][1] and "unknown kind 'dog'" in reasons[2][1]
    assert "outside 0..1" in reasons[3][1] and "unit square" in reasons[4][1]
    assert "in the future" in reasons[5][1] and "missing field 'detection_id'" in reasons[6][1]
    assert reasons[6][0] is None and "duplicate" in reasons[7][1]
    assert await stored_ids(db) == ["a", "g"]
    assert pushed == [["a", "g"]]


async def test_a_camera_not_yet_in_the_live_index_is_looked_up(client: Client, app: web.Application) -> None:
    await seed_cameras(client)
    app[INDEX].drop("EAST-LOOKING")  # as if another instance had registered it a moment ago
    answer = await (await post(client, PATH, {"detections": [det("x1"), det("x2", camera_id="NOPE")]})).json()
    assert answer["accepted"] == 1 and [r["index"] for r in answer["rejected"]] == [1]
    assert (await post(client, PATH, det("x3"))).status == 201


async def test_same_batch_twice_stores_nothing_twice(client: Client, db: Any, pushed: Pushed) -> None:
    await seed_cameras(client)
    batch = {"detections": [det(f"r{i}") for i in range(50)] + [det("bad", kind="dog")]}
    first = await (await post(client, PATH, batch)).json()
    again = await (await post(client, PATH, batch)).json()
    assert (first["accepted"], first["duplicates"], len(first["rejected"])) == (50, 0, 1)
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 50, first["rejected"])
    assert len(await stored_ids(db)) == 50
    assert len(pushed) == 1  # a retry pushes nothing to consoles again


async def test_overlapping_batches_at_once_store_each_id_once(client: Client, db: Any) -> None:
    await seed_cameras(client)
    ids = [f"o{i:03d}" for i in range(200)]
    forward = {"detections": [det(i) for i in ids]}
    backward = {"detections": [det(i) for i in reversed(ids)]}
    answers = await asyncio.gather(*(post(client, PATH, body) for body in (forward, backward, forward)))
    counts = [await a.json() for a in answers]
    assert all(a.status == 200 for a in answers)
    assert sum(c["accepted"] for c in counts) == 200 and sum(c["duplicates"] for c in counts) == 400
    assert len(await stored_ids(db)) == 200


async def test_batch_with_no_valid_item_is_422_and_stores_nothing(client: Client, db: Any) -> None:
    await seed_cameras(client)
    response = await post(client, PATH, {"detections": [det("x", camera_id="NOPE"), det("y", kind="dog")]})
    assert response.status == 422
    problem = await response.json()
    assert [e["field"] for e in problem["errors"]] == ["detections.0", "detections.1"]
    assert "unknown camera" in problem["errors"][0]["message"]
    assert await stored_ids(db) == []


@pytest.mark.parametrize("body, field", [
    ({"detections": []}, "detections"),
    ({"detections": {"a": 1}}, "detections"),
    ({"detections": [det("z")] * 1001}, "detections"),
    ({"detections": [det("z")], "sender": "x"}, "sender"),
])
async def test_malformed_batch_envelope_is_422(client: Client, body: dict[str, Any], field: str) -> None:
    response = await post(client, PATH, body)
    assert response.status == 422
    assert [e["field"] for e in (await response.json())["errors"]] == [field]


async def test_single_detection_201_then_200_with_the_stored_one(client: Client, pushed: Pushed) -> None:
    await seed_cameras(client)
    plate = det("one", kind="plate", label="51F-123.45", attributes={"make": "Honda"})
    first = await post(client, PATH, plate)
    assert first.status == 201
    created = await first.json()
    assert created["detection_id"] == "one" and created["detected_at"].endswith("Z")
    retry = await post(client, PATH, det("one", kind="plate", label="changed"))
    assert retry.status == 200
    assert await retry.json() == created
    assert pushed == [["one"]]


async def test_failing_hook_keeps_the_write(client: Client, db: Any, pushed: Pushed) -> None:
    await seed_cameras(client)
    response = await post(client, PATH, det("boom-1"))
    assert response.status == 201 and pushed == [["boom-1"]]
    assert await stored_ids(db) == ["boom-1"]


async def test_single_detection_is_all_or_nothing(client: Client, db: Any) -> None:
    await seed_cameras(client)
    response = await post(client, PATH, det("bad", camera_id="NOPE", confidence=3))
    assert response.status == 422
    problem = await response.json()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert {e["field"] for e in problem["errors"]} == {"camera_id", "confidence"}
    assert await stored_ids(db) == []


async def test_unsigned_or_badly_signed_or_token_is_401(client: Client, db: Any) -> None:
    await seed_cameras(client)
    raw = json.dumps(det("u")).encode()
    unsigned = await client.post(PATH, data=raw, headers={"Content-Type": "application/json"})
    token = await client.post(PATH, data=raw, headers=bearer("police"))
    forged = await client.post(PATH, data=raw, headers=signed(raw, secret="wrong"))
    assert [unsigned.status, token.status, forged.status] == [401, 401, 401]
    assert await stored_ids(db) == []


async def test_oversize_single_and_batch_are_413(client: Client, db: Any) -> None:
    await seed_cameras(client)
    big_single = await post(client, PATH, det("big", attributes={"blob": "x" * 70_000}))
    assert big_single.status == 413
    big_batch = {"detections": [det(f"b{i}", attributes={"blob": "x" * 60_000}) for i in range(20)]}
    response = await post(client, PATH, big_batch)
    assert response.status == 413
    assert (await response.json())["type"].endswith("too-large")
    assert await stored_ids(db) == []


async def test_batch_between_the_limits_is_accepted(client: Client) -> None:
    await seed_cameras(client)
    batch = {"detections": [det(f"m{i}", attributes={"blob": "x" * 60_000}) for i in range(3)]}
    answer = await (await post(client, PATH, batch)).json()
    assert answer["accepted"] == 3


def model(detection_id: str, camera_id: str, at: datetime, **extra: Any) -> DetectionIn:
    fields = {"detection_id": detection_id, "camera_id": camera_id, "detected_at": at.isoformat(),
              "kind": "person", "confidence": 0.5}
    return DetectionIn.model_validate({**fields, **extra})


async def test_recent_is_newest_first_within_cameras_window_and_limit(db: Any) -> None:
    items = [model(f"{cam}-{m}", cam, NOW - timedelta(minutes=m), box=[0, 0, 1, 1], attributes={"m": m})
             for cam in ("A", "B", "C") for m in range(0, 30, 3)]
    assert await store.insert_many(db, items) == (30, 0)
    assert await store.insert_many(db, items[:5]) == (0, 5)
    since = NOW - timedelta(minutes=10)
    got = await store.recent(db, ["A", "B", "NOPE"], since, 100)
    assert {d["camera_id"] for d in got} == {"A", "B"}
    assert [d["detected_at"] for d in got] == sorted((d["detected_at"] for d in got), reverse=True)
    assert all(d["detected_at"] >= since.isoformat().replace("+00:00", "Z") for d in got)
    assert len(got) == 8  # minutes 0, 3, 6, 9 for each of two cameras
    newest = got[0]
    assert newest["detection_id"] in ("A-0", "B-0") and newest["box"] == [0, 0, 1, 1]
    assert newest["attributes"] == {"m": 0} and newest["label"] is None
    limited = await store.recent(db, ["A", "B", "C"], since, 5)
    assert [d["detection_id"] for d in limited] == ["A-0", "B-0", "C-0", "A-3", "B-3"]
    assert await store.recent(db, [], since, 5) == []


async def test_recent_merges_many_cameras_like_a_plain_sort(db: Any) -> None:
    # 19 cameras (three groups of branches); a busy one; equal times on different cameras; a repeated id.
    cams = [f"K{c:02d}" for c in range(19)]
    items = [model(f"{cam}-{i}", cam, NOW - timedelta(seconds=7 * i + (c % 3)))
             for c, cam in enumerate(cams) for i in range(60 if cam == "K05" else 4)]
    await store.insert_many(db, items)
    since = NOW - timedelta(seconds=20)
    expected = sorted((i for i in items if i.detected_at >= since), key=lambda i: i.detection_id)
    expected.sort(key=lambda i: i.detected_at, reverse=True)
    for limit in (1, 9, 40, 500):
        got = await store.recent(db, [*cams, "K05", "UNSEEN"], since, limit)
        assert [d["detection_id"] for d in got] == [i.detection_id for i in expected[:limit]]


LOOKBACK_PLANS = """SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements
    WHERE statement LIKE '%FROM detections WHERE camera_id = (SELECT%' AND statement NOT LIKE '%pg_prepared%'
    ORDER BY length(statement)"""


async def test_lookback_statements_are_planned_before_any_call_uses_them(db: Any) -> None:
    await store.plan_recent(db, 50)
    plans = await db.fetch(LOOKBACK_PLANS)
    assert len(plans) == 7  # 8, 16, ... 56 branches
    assert all(tuple(plan)[1:] == (1, 5) for plan in plans)  # the generic plan is built and kept
    await store.insert_many(db, [model("p1", "A", NOW)])
    got = await store.recent(db, ["A", "B"], NOW - timedelta(minutes=1), 5)
    assert [d["detection_id"] for d in got] == ["p1"]
    assert tuple((await db.fetch(LOOKBACK_PLANS))[0])[1:] == (2, 5)  # the call planned nothing


async def test_the_service_starts_with_its_lookback_plans_kept(settings: Settings) -> None:
    # One pooled connection, so the one acquired here is the one planned at start; and a call opened after
    # start plans nothing (its statement's generic plan is used a second time) and leaves no warm-up behind.
    one = settings.model_copy(update={"db_pool_min": 1, "db_pool_max": 1})
    application = create_app(one)
    async with TestClient(TestServer(application)) as client:
        async with application[POOL].acquire() as conn:
            plans = await conn.fetch(LOOKBACK_PLANS)
            assert await conn.fetchval("SELECT count(*) FROM calls") == 0
        await seed_cameras(client)
        assert (await post(client, "/v1/calls", call_body("113-PLANNED"))).status == 201
        async with application[POOL].acquire() as conn:
            after = await conn.fetch(LOOKBACK_PLANS)
    opening = [i for i, plan in enumerate(plans) if "INSERT INTO calls" in plan["statement"]]
    assert len(plans) == 14 and len(opening) == 7  # the look-back alone, and with the call it opens
    assert all((plan["generic_plans"], plan["custom_plans"]) == (1, 5) for plan in plans)
    used = [i for i in opening if after[i]["generic_plans"] == 2]
    assert len(used) == 1 and all(plan["custom_plans"] == 5 for plan in after)


async def test_the_json_lookback_answers_what_recent_does(db: Any) -> None:
    # The opening statement carries the look-back as JSON built by the server; it must equal recent()'s rows.
    items = [model("whole", "A", NOW, label="51F-123.45", box=[0, 0.5, 1, 0.25], snapshot_url="https://s/1",
                   attributes={"color": "white", "n": [1, 2.5]}),
             model("fraction", "A", NOW - timedelta(microseconds=120_001), confidence=1),
             model("tiny", "B", NOW - timedelta(seconds=1, microseconds=-1), attributes={"é": "\u00a0"}),
             *(model(f"K{i}", f"K{i % 11}", NOW - timedelta(seconds=i), confidence=i / 39)
               for i in range(40))]
    await store.insert_many(db, items)
    since = NOW - timedelta(seconds=30)
    for cameras, limit in ((["A", "B"], 10), ([f"K{i}" for i in range(11)] + ["A"], 7), (["NONE"], 5)):
        sql = store.recent_json_sql(store.statement_size(len(cameras)))
        got = orjson.loads(await db.fetchval(f"SELECT j::text FROM ({sql}) AS x(j)", cameras, since, limit))
        expected = await store.recent(db, cameras, since, limit)
        assert got == expected and len(got) == min(limit, len(expected)) and (expected or cameras == ["NONE"])


async def test_stored_detections_read_back_exactly_as_posted(db: Any) -> None:
    # Times are formatted by the server: with and without fractions, they must match rfc3339_utc.
    items = [model("whole", "A", NOW, label="51F-123.45", box=[0, 0.5, 1, 0.25], snapshot_url="https://s/1",
                   attributes={"color": "white", "n": [1, 2.5]}),
             model("fraction", "A", NOW - timedelta(microseconds=120_001), confidence=1),
             model("tiny", "A", NOW - timedelta(seconds=1, microseconds=-1), attributes={"é": "\u00a0"})]
    await store.insert_many(db, items)
    got = {d["detection_id"]: d for d in await store.recent(db, ["A"], NOW - timedelta(minutes=1), 10)}
    for item in items:
        assert got[item.detection_id] == to_record(item)
        assert await store.get(db, item.detection_id) == to_record(item)
    assert "." not in got["whole"]["detected_at"] and got["tiny"]["detected_at"].endswith(".000001Z")


async def test_retention_deletes_only_old_rows_in_batches(db: Any) -> None:
    items = [model(f"r{h:03d}", "A", NOW - timedelta(hours=h)) for h in range(100)]
    await store.insert_many(db, items)
    deleted = await store.delete_older_than(db, NOW - timedelta(hours=50), batch=7, keep_referenced=False)
    assert deleted == 49
    assert await stored_ids(db) == [f"r{h:03d}" for h in range(51)]


async def test_retention_keeps_what_an_open_call_still_shows(client: Client, db: Any) -> None:
    await seed_cameras(client)
    assert (await post(client, "/v1/calls", call_body("113-KEEP"))).status == 201
    received = datetime.fromisoformat("2026-11-26T20:15:03+07:00")
    items = [model("east-before", "EAST-LOOKING", received - timedelta(minutes=5)),
             model("east-long-before", "EAST-LOOKING", received - timedelta(hours=2)),
             model("far-before", "FAR-AWAY", received - timedelta(minutes=5)),
             model("east-after", "EAST-LOOKING", received + timedelta(minutes=1))]
    await store.insert_many(db, items)
    cutoff = received + timedelta(days=365)
    deleted = await store.delete_older_than(db, cutoff, batch=2, lookback=timedelta(minutes=10))
    assert deleted == 2
    assert await stored_ids(db) == ["east-after", "east-before"]
    await post(client, "/v1/calls/113-KEEP/close", {})
    assert await store.delete_older_than(db, cutoff, batch=2) == 2
