"""The caller's number is personal data: kept only as a keyed hash and its last three digits."""

from __future__ import annotations

import hashlib
import hmac


def caller_fingerprint(key: bytes, number: str | None) -> tuple[str | None, str | None]:
    """(keyed hash, last 3 digits) of a phone number, or (None, None) when there is none."""
    if not number:
        return None, None
    digits = "".join(ch for ch in number if ch.isdigit())
    digest = hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()
    return digest, digits[-3:] or None


def lookup_hashes(keys: list[bytes], number: str) -> list[str]:
    """The number's hash under every key still in use, so that rotating the key loses no lookup."""
    return [digest for key in keys if (digest := caller_fingerprint(key, number)[0])]
