"""Detections travel with incidents and live, only to agencies allowed to see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from tests.integration.conftest import bearer
from tests.integration.helpers import Client, call_body, console, next_frame, post, seed_cameras, silent


def detection(
    detection_id: str, kind: str, label: str | None, camera: str = "EAST-LOOKING", ago_s: float = 30
) -> dict[str, Any]:
    moment = datetime.now(UTC) - timedelta(seconds=ago_s)
    return {
        "detection_id": detection_id,
        "camera_id": camera,
        "detected_at": moment.isoformat(),
        "kind": kind,
        "label": label,
        "confidence": 0.9,
        "box": [0.1, 0.1, 0.2, 0.2],
        "attributes": {"watchlist_id": "WL-7"} if kind == "face" else {},
    }


BEFORE = [
    detection("plate-1", "plate", "51F-123.45", ago_s=30),
    detection("face-1", "face", "Nguyen Van A", ago_s=40),
    detection("smoke-1", "smoke", None, ago_s=50),
    detection("old-1", "smoke", None, ago_s=3600),
]


async def test_police_gets_identities_with_the_incident_and_live(client: Client) -> None:
    await seed_cameras(client)
    assert (await post(client, "/v1/detections", {"detections": BEFORE})).status == 200
    police = await console(client, "police")
    await post(client, "/v1/calls", call_body("113-DET"))
    opened = await next_frame(police)
    assert [d["detection_id"] for d in opened["detections"]] == ["plate-1", "face-1", "smoke-1"]
    assert opened["detections"][0]["label"] == "51F-123.45"
    await post(client, "/v1/detections", detection("plate-2", "plate", "59A-999.99", ago_s=1))
    live = await next_frame(police)
    assert live["type"] == "detection" and live["incident_id"] == opened["incident"]["incident_id"]
    assert live["detection"]["label"] == "59A-999.99" and live["seq"] == opened["seq"] + 1


async def test_fire_never_sees_faces_or_plates(client: Client) -> None:
    await seed_cameras(client)
    await post(client, "/v1/detections", {"detections": BEFORE})
    fire = await console(client, "fire")
    await post(client, "/v1/calls", call_body("114-DET", hotline="114"))
    opened = await next_frame(fire)
    assert [d["detection_id"] for d in opened["detections"]] == ["smoke-1"]
    await post(client, "/v1/detections", detection("face-2", "face", "Tran Thi B", ago_s=1))
    assert await silent(fire)
    await post(client, "/v1/detections", detection("smoke-2", "smoke", None, ago_s=1))
    assert (await next_frame(fire))["detection"]["detection_id"] == "smoke-2"
    seen = await (await client.get("/v1/calls/114-DET", headers=bearer("fire"))).json()
    assert {d["kind"] for d in seen["detections"]} == {"smoke"}
    text = str(seen)
    assert "Tran Thi B" not in text and "51F-123.45" not in text and "WL-7" not in text
    boss = await (await client.get("/v1/calls/114-DET", headers=bearer("supervisor"))).json()
    assert {d["kind"] for d in boss["detections"]} == {"face", "plate", "smoke"}


async def test_opened_incident_shows_what_is_stored_and_read_back(client: Client, database_url: str) -> None:
    # The live frame, the stored event (which a resume replays) and a later read must show the same detections
    # in the same order and the same form.
    await seed_cameras(client)
    await post(client, "/v1/detections", {"detections": BEFORE})
    boss = await console(client, "supervisor")
    await post(client, "/v1/calls", call_body("113-SAME"))
    opened = await next_frame(boss)
    assert [d["detection_id"] for d in opened["detections"]] == ["plate-1", "face-1", "smoke-1"]
    read = await (await client.get("/v1/calls/113-SAME", headers=bearer("supervisor"))).json()
    assert opened["detections"] == read["detections"]
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT payload FROM events WHERE type = 'incident.opened'").fetchone()
    assert row is not None and row[0]["detections"] == opened["detections"]
    plate = opened["detections"][0]
    assert plate == {**BEFORE[0], "detected_at": plate["detected_at"], "snapshot_url": None}
    assert datetime.fromisoformat(plate["detected_at"]) == datetime.fromisoformat(BEFORE[0]["detected_at"])


async def test_detection_on_an_unmatched_camera_is_not_pushed(client: Client) -> None:
    await seed_cameras(client)
    police = await console(client, "police")
    await post(client, "/v1/calls", call_body("113-FAR"))
    await next_frame(police)
    await post(
        client, "/v1/detections", detection("far-1", "plate", "51A-000.01", camera="FAR-AWAY", ago_s=1)
    )
    assert await silent(police)


async def test_a_batch_becomes_one_event_per_detection_and_incident_in_order(
    client: Client, database_url: str
) -> None:
    await seed_cameras(client)
    police = await console(client, "police")
    for call_id in ("113-ONE", "113-TWO"):
        await post(client, "/v1/calls", call_body(call_id))
        await next_frame(police)
    batch = [detection(f"smoke-{n}", "smoke", None, ago_s=1) for n in range(3)]
    assert (await post(client, "/v1/detections", {"detections": batch})).status == 200
    frames = [await next_frame(police) for _ in range(6)]
    ids = [int(f["event_id"]) for f in frames]
    assert ids == sorted(ids) and len(set(ids)) == 6
    assert len({f["incident_id"] for f in frames}) == 2
    assert sorted((f["incident_id"], f["detection"]["detection_id"]) for f in frames) == sorted(
        {(f["incident_id"], f"smoke-{n}") for f in frames for n in range(3)}
    )
    with psycopg.connect(database_url) as conn:
        stored = conn.execute(
            "SELECT event_id, payload->'detection'->>'detection_id' FROM events WHERE type = 'detection'"
        ).fetchall()
    assert sorted(stored) == sorted(
        (i, f["detection"]["detection_id"]) for i, f in zip(ids, frames, strict=True)
    )
