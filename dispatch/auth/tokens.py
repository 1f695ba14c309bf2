"""Bearer tokens the service signs: console/person tokens naming a role, and feed tokens bound to a camera."""

from __future__ import annotations

import binascii
import functools
import hashlib
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Literal

import jwt
import orjson

from dispatch.problems import unauthorized

Role = Literal["police", "fire", "medical", "supervisor", "admin"]
ROLES: tuple[Role, ...] = ("police", "fire", "medical", "supervisor", "admin")
_TTL = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed system sender or a person holding a token."""

    name: str
    role: Role | Literal["sender"]
    areas: frozenset[str] = field(default_factory=frozenset)
    token_id: str = ""

    @property
    def is_sender(self) -> bool:
        return self.role == "sender"


def parse_ttl(text: str) -> int:
    """Seconds in a TTL such as 90s, 15m, 8h or 7d."""
    found = _TTL.match(text.strip())
    if not found or int(found.group(1)) <= 0:
        raise ValueError(f"TTL {text!r} is not like 90s, 15m, 8h or 7d")
    return int(found.group(1)) * _UNITS[found.group(2)]


def issue(key: bytes, role: Role, ttl_s: int, areas: list[str] | None = None, name: str | None = None) -> str:
    """A signed person token."""
    token_id = uuid.uuid4().hex
    now = int(time.time())
    claims = {
        "typ": "console",
        "sub": name or f"{role}-{token_id[:8]}",
        "role": role,
        "areas": sorted(areas or []),
        "jti": token_id,
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, key, algorithm="HS256")


def verify(key: bytes, token: str) -> Principal:
    """The token's holder, or a 401 problem when it is missing, forged or expired."""
    claims = _decode(key, token, "console")
    role = claims.get("role")
    if role not in ROLES:
        raise unauthorized("The token names no known role.")
    return Principal(
        name=str(claims["sub"]),
        role=role,
        areas=frozenset(str(a) for a in _strings(claims.get("areas"))),
        token_id=str(claims["jti"]),
    )


def _strings(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


@dataclass(frozen=True)
class FeedGrant:
    """What a valid feed token opens: listed gateway paths, or the cameras of one incident."""

    console: str
    paths: frozenset[str] | None
    incident_id: uuid.UUID | None


def issue_feed(
    key: bytes,
    console: str,
    expires: int,
    *,
    paths: list[str] | None = None,
    incident: uuid.UUID | None = None,
) -> str:
    """A token that opens feeds for one console until `expires` (unix s): these paths or this incident's."""
    return FeedTokens(key, expires, paths=paths, incident=incident).issue(console)


class FeedTokens:
    """Feed tokens sharing a scope and expiry, one per console: the shared claims are encoded once."""

    # Signed once per console per pushed frame and repeated in every feed URL of the frame, so it is on the
    # fan-out's hot path and must stay short: an incident scope (its cameras are looked up when the gateway
    # asks) instead of a path list. It is the HS256 JWT PyJWT would build (PyJWT verifies it), built faster.

    def __init__(
        self, key: bytes, expires: int, *, paths: list[str] | None = None, incident: uuid.UUID | None = None
    ) -> None:
        scope: dict[str, object] = {"inc": incident.hex} if incident else {"paths": paths or []}
        shared = orjson.dumps({"typ": "feed", "exp": expires, **scope})[:-1] + b","
        # Base64 of a concatenation is the concatenation of the parts' base64 when the first part is whole
        # 3-byte groups: JSON whitespace pads it, and each console's token encodes only its own claim.
        shared += b" " * (-len(shared) % 3)
        self._prefix = _JWT_HEADER + b"." + _b64(shared)
        self._signer = _hs256(key)

    def issue(self, console: str) -> str:
        """The token of one console."""
        return self.encoded(console).decode()

    def encoded(self, console: str) -> bytes:
        """The token of one console, as the bytes a frame carries."""
        signing_input = self._prefix + _subject(console)
        return signing_input + b"." + _b64(self._signer.sign(signing_input))


@functools.lru_cache(maxsize=4096)
def _subject(console: str) -> bytes:
    return _b64(orjson.dumps({"sub": console})[1:])


class _HS256:
    """HMAC-SHA256 (RFC 2104) with the key's inner and outer states hashed once: a fan-out signs a feed
    token per console, and copying two states costs under half of what `hmac.new` does per message."""

    def __init__(self, key: bytes) -> None:
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def sign(self, message: bytes) -> bytes:
        inner, outer = self._inner.copy(), self._outer.copy()
        inner.update(message)
        outer.update(inner.digest())
        return outer.digest()


@functools.lru_cache(maxsize=8)
def _hs256(key: bytes) -> _HS256:
    return _HS256(key)


def _b64(data: bytes) -> bytes:
    # What base64.urlsafe_b64encode does, without its two Python-level calls (once per console and frame).
    return binascii.b2a_base64(data, newline=False).translate(_URL_SAFE).rstrip(b"=")


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


_JWT_HEADER = _b64(b'{"alg":"HS256","typ":"JWT"}')


def verify_feed(key: bytes, token: str) -> FeedGrant:
    """What a feed token opens, or a 401 problem when it is forged, expired or not a feed token."""
    claims = _decode(key, token, "feed", ("exp", "sub"))
    paths, incident = claims.get("paths"), claims.get("inc")
    try:
        scope = uuid.UUID(hex=str(incident)) if incident is not None else None
    except ValueError:
        raise unauthorized("The feed token names no incident.") from None
    if scope is None and not isinstance(paths, list):
        raise unauthorized("The feed token opens nothing.")
    listed = frozenset(str(p) for p in paths) if isinstance(paths, list) else None
    return FeedGrant(str(claims["sub"]), listed, scope)


def _decode(
    key: bytes, token: str, typ: str, required: tuple[str, ...] = ("exp", "sub", "jti")
) -> dict[str, object]:
    try:
        claims: dict[str, object] = jwt.decode(
            token, key, algorithms=["HS256"], options={"require": list(required)}
        )
    except jwt.ExpiredSignatureError:
        raise unauthorized("The token has expired.") from None
    except jwt.PyJWTError:
        raise unauthorized("The token is not valid.") from None
    if claims.get("typ") != typ:
        raise unauthorized(f"This is not a {typ} token.")
    return claims
