"""Which detection kinds and fields each agency may see: policy.toml, and one fail-closed check."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dispatch.detections.model import KINDS

DEFAULT_POLICY: Final = Path(__file__).resolve().parents[1] / "policy.toml"
_ALL: Final = "*"
# Top-level fields an agency may have withheld; ids, kind, time, confidence and box identify no one.
_WITHHOLDABLE: Final = frozenset({"label", "snapshot_url", "attributes"})


def _kinds(values: list[str]) -> frozenset[str]:
    unknown = sorted(set(values) - set(KINDS) - {_ALL})
    if unknown:
        raise ValueError(f"unknown kinds {unknown}; known: {', '.join(KINDS)} or '*'")
    return frozenset(KINDS) if _ALL in values else frozenset(values)


def _withholdable(values: list[str]) -> frozenset[str]:
    unknown = sorted(set(values) - _WITHHOLDABLE)
    if unknown:
        raise ValueError(f"fields {unknown} cannot be withheld; choose from {sorted(_WITHHOLDABLE)}")
    return frozenset(values)


class AgencyRule(BaseModel):
    """What one agency's consoles receive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: frozenset[str]
    identities: bool = False
    withhold: frozenset[str] = frozenset()

    @field_validator("kinds", mode="before")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> frozenset[str]:
        return _kinds(value)

    @field_validator("withhold", mode="before")
    @classmethod
    def _known_fields(cls, value: list[str]) -> frozenset[str]:
        return _withholdable(value)


class Policy(BaseModel):
    """The whole detection policy; an agency not named here receives nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agencies: dict[str, AgencyRule]
    identity_kinds: frozenset[str] = frozenset({"face", "plate"})
    identity_fields: frozenset[str] = frozenset({"label", "snapshot_url"})
    identity_attributes: frozenset[str] = Field(default=frozenset())

    @field_validator("identity_kinds", mode="before")
    @classmethod
    def _known_identity_kinds(cls, value: list[str]) -> frozenset[str]:
        return _kinds(value)

    @field_validator("identity_fields", mode="before")
    @classmethod
    def _known_identity_fields(cls, value: list[str]) -> frozenset[str]:
        return _withholdable(value)

    @field_validator("identity_attributes", mode="before")
    @classmethod
    def _folded(cls, value: list[str]) -> frozenset[str]:
        return frozenset(key.casefold() for key in value)


class PolicyError(ValueError):
    """The policy file cannot be used; the service must not start with a guess."""


def load_policy(path: Path | None = None) -> Policy:
    """The policy from a TOML file (default dispatch/policy.toml); a bad file is a PolicyError saying why."""
    source = path or DEFAULT_POLICY
    try:
        return Policy.model_validate(tomllib.loads(source.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"cannot read detection policy {source}: {exc}") from None
    except ValidationError as exc:
        raise PolicyError(f"invalid detection policy {source}: {exc}") from None


def _strip(value: Any, keys: frozenset[str]) -> Any:
    """A copy without the identity keys, at any depth."""
    if isinstance(value, dict):
        return {k: _strip(v, keys) for k, v in value.items() if str(k).casefold() not in keys}
    if isinstance(value, list):
        return [_strip(item, keys) for item in value]
    return value


def visible(policy: Policy, role: str, detection: dict[str, Any]) -> dict[str, Any] | None:
    """The detection as this role may see it, or None when it must never be delivered to it."""
    rule = policy.agencies.get(role)
    kind = detection.get("kind")
    if rule is None or kind not in KINDS or kind not in rule.kinds:
        return None
    view = dict(detection)
    withheld = set(rule.withhold)
    if not rule.identities:
        if kind in policy.identity_kinds:
            withheld |= policy.identity_fields
        attributes = view.get("attributes")
        # Something other than an object cannot be checked key by key, so none of it goes out.
        kept = _strip(attributes, policy.identity_attributes) if isinstance(attributes, dict) else {}
        view["attributes"] = kept
    for field in withheld:
        view[field] = {} if field == "attributes" else None
    return view
