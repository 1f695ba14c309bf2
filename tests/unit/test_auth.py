"""Signatures and tokens, without a server."""

from __future__ import annotations

import time
import uuid

import pytest

from dispatch.auth import signing, tokens
from dispatch.problems import Problem

SENDERS = {"tel": b"secret"}
K = b"unit-test-key-0123456789abcdef012345"
OTHER = b"another-key-0123456789abcdef01234567"


def test_signed_request_verifies_and_names_the_sender() -> None:
    headers = signing.signed_headers("tel", b"secret", b'{"a":1}')
    assert signing.verify(headers, b'{"a":1}', SENDERS, 300) == "tel"


@pytest.mark.parametrize(
    "change",
    [
        {"X-Callsight-Sender": "other"},
        {"X-Callsight-Timestamp": str(int(time.time()) - 301)},
        {"X-Callsight-Timestamp": "yesterday"},
        {"X-Callsight-Signature": "sha256=00"},
    ],
)
def test_anything_wrong_is_401(change: dict[str, str]) -> None:
    headers = {**signing.signed_headers("tel", b"secret", b"{}"), **change}
    with pytest.raises(Problem) as raised:
        signing.verify(headers, b"{}", SENDERS, 300)
    assert raised.value.status == 401


def test_body_change_breaks_the_signature() -> None:
    headers = signing.signed_headers("tel", b"secret", b'{"a":1}')
    with pytest.raises(Problem):
        signing.verify(headers, b'{"a":2}', SENDERS, 300)


def test_console_token_round_trip_and_expiry() -> None:
    token = tokens.issue(K, "fire", 60, ["Phuong Ben Thanh"], "wall-1")
    holder = tokens.verify(K, token)
    assert (holder.name, holder.role, holder.areas) == ("wall-1", "fire", frozenset({"Phuong Ben Thanh"}))
    with pytest.raises(Problem):
        tokens.verify(OTHER, token)
    with pytest.raises(Problem):
        tokens.verify(K, tokens.issue(K, "fire", -1))


def test_feed_token_names_its_scope() -> None:
    listed = tokens.verify_feed(
        K, tokens.issue_feed(K, "desk", int(time.time()) + 60, paths=["CAM-1", "CAM-2"])
    )
    assert (listed.console, listed.paths, listed.incident_id) == ("desk", frozenset({"CAM-1", "CAM-2"}), None)
    incident = uuid.uuid4()
    token = tokens.issue_feed(K, "desk", int(time.time()) + 60, incident=incident)
    assert tokens.verify_feed(K, token) == tokens.FeedGrant("desk", None, incident)
    assert len(token) < 200  # it is repeated in every feed URL of every pushed frame
    with pytest.raises(Problem):
        tokens.verify(K, token)
    for bad in (token[:-2] + "xx", tokens.issue_feed(K, "desk", int(time.time()) - 1, incident=incident)):
        with pytest.raises(Problem):
            tokens.verify_feed(K, bad)
    with pytest.raises(Problem):
        tokens.verify_feed(K, tokens.issue(K, "police", 60))


@pytest.mark.parametrize("key", [K, b"x" * 64, b"long-" * 30])
def test_feed_tokens_verify_under_any_key_length(key: bytes) -> None:
    # The feed signer hashes the key's pads once; keys past the 64-byte block are hashed first (RFC 2104).
    token = tokens.issue_feed(key, "desk", int(time.time()) + 60, paths=["CAM-1"])
    assert tokens.verify_feed(key, token).paths == frozenset({"CAM-1"})
    with pytest.raises(Problem):
        tokens.verify_feed(key + b"!", token)


@pytest.mark.parametrize("path", ["C", "CA", "CAM", "CAM-"])  # shared claims of every length modulo 3
def test_feed_tokens_of_one_scope_name_each_console(path: str) -> None:
    shared = tokens.FeedTokens(K, int(time.time()) + 60, paths=[path])
    for console in ("desk", "desk-2", "bàn 3"):
        grant = tokens.verify_feed(K, shared.issue(console))
        assert (grant.console, grant.paths) == (console, frozenset({path}))


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("8h", 28800), ("7d", 604800)])
def test_ttl(text: str, seconds: int) -> None:
    assert tokens.parse_ttl(text) == seconds


def test_bad_ttl() -> None:
    with pytest.raises(ValueError):
        tokens.parse_ttl("forever")
