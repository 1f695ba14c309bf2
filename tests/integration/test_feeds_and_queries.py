"""Signed feed URLs, the gateway authorization hook, and the covering/nearby query endpoints."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

from tests.integration.conftest import bearer
from tests.integration.helpers import ORIGIN, Client, call_body, post, seed_cameras


def _token(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


async def _gateway(client: Client, path: str, token: str, action: str = "read") -> int:
    ask = {
        "user": "",
        "password": "",
        "token": token,
        "ip": "127.0.0.1",
        "action": action,
        "path": path,
        "protocol": "hls",
        "id": None,
        "query": "",
    }
    response = await client.post("/v1/media/auth", data=json.dumps(ask))
    return response.status


async def test_feed_token_opens_its_camera_only(client: Client) -> None:
    await seed_cameras(client)
    incident = await (await post(client, "/v1/calls", call_body("113-FEED"))).json()
    east = next(c for c in incident["cameras"] if c["camera_id"] == "EAST-LOOKING")
    token = _token(east["feed"]["snapshot"])
    assert await _gateway(client, "EAST-LOOKING", token) == 204
    assert await _gateway(client, "FAR-AWAY", token) == 401
    assert await _gateway(client, "EAST-LOOKING", token, action="publish") == 401
    assert await _gateway(client, "EAST-LOOKING", token[:-3] + "abc") == 401
    dome = next(c for c in incident["cameras"] if c["camera_id"] == "NORTH-DOME")
    assert dome["feed"] is None


async def test_incident_token_follows_the_incidents_cameras(client: Client) -> None:
    await seed_cameras(client)
    incident = await (await post(client, "/v1/calls", call_body("113-FOLLOW"))).json()
    east = next(c for c in incident["cameras"] if c["camera_id"] == "EAST-LOOKING")
    token = _token(east["feed"]["snapshot"])
    assert await _gateway(client, "EAST-LOOKING", token) == 204
    far = {"location": {"lat": 10.7800, "lon": 106.7100, "uncertainty_m": 10}, "seq": 2}
    moved = await (await post(client, "/v1/calls/113-FOLLOW/locations", far)).json()
    assert [c["camera_id"] for c in moved["cameras"]] == ["FAR-AWAY"]
    assert await _gateway(client, "EAST-LOOKING", token) == 401
    assert await _gateway(client, "FAR-AWAY", token) == 204


async def test_query_token_opens_the_listed_cameras_only(client: Client) -> None:
    await seed_cameras(client)
    query = f"/v1/cameras/nearby?lat={ORIGIN[0]}&lon={ORIGIN[1]}&limit=2&within_m=10000"
    answer = await (await client.get(query, headers=bearer("police"))).json()
    connected = next(c for c in answer["cameras"] if c["feed"])
    assert connected["camera_id"] == "EAST-LOOKING"
    token = _token(connected["feed"]["snapshot"])
    assert await _gateway(client, "EAST-LOOKING", token) == 204
    assert await _gateway(client, "WEST-LOOKING", token) == 401


async def test_covering_same_from_index_and_postgis(client: Client) -> None:
    await seed_cameras(client)
    query = f"/v1/cameras/covering?lat={ORIGIN[0]}&lon={ORIGIN[1]}&radius_m=30"
    index = await (await client.get(query, headers=bearer("police"))).json()
    postgis = await (await client.get(query + "&engine=postgis", headers=bearer("police"))).json()
    assert {c["camera_id"] for c in index["cameras"]} == {"EAST-LOOKING", "NORTH-DOME"}
    assert {c["camera_id"] for c in postgis["cameras"]} == {c["camera_id"] for c in index["cameras"]}
    for ours, theirs in zip(index["cameras"], postgis["cameras"], strict=True):
        assert abs(ours["distance_m"] - theirs["distance_m"]) < 0.1
        assert abs(ours["coverage"] - theirs["coverage"]) < 0.03


async def test_nearby_by_distance_and_bad_queries(client: Client) -> None:
    await seed_cameras(client)
    near = await client.get(
        f"/v1/cameras/nearby?lat={ORIGIN[0]}&lon={ORIGIN[1]}&limit=2", headers=bearer("fire")
    )
    ids = [c["camera_id"] for c in (await near.json())["cameras"]]
    assert ids == ["NORTH-DOME", "EAST-LOOKING"]
    for bad in ("lat=91&lon=106", "lat=10&lon=nan", "lat=10", "lat=10&lon=106&radius_m=-1"):
        response = await client.get(f"/v1/cameras/covering?{bad}", headers=bearer("fire"))
        assert response.status == 422 and response.content_type == "application/problem+json"
    assert (await client.get("/v1/cameras/nearby?lat=10&lon=106")).status == 401
