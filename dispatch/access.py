"""Who may see what: one pure, fail-closed decision per console and event."""

from __future__ import annotations

from dataclasses import dataclass, field

from dispatch.auth.tokens import Principal

HOTLINE_AGENCY = {"113": "police", "114": "fire", "115": "medical"}


@dataclass(frozen=True)
class Subscription:
    """A console's own narrowing of what it receives (empty = everything it may see)."""

    hotlines: frozenset[str] = field(default_factory=frozenset)
    areas: frozenset[str] = field(default_factory=frozenset)


def receives_hotline(role: str, hotline: str | None) -> bool:
    """113 goes to police, 114 to fire, 115 to medical; supervisors receive all."""
    if hotline not in HOTLINE_AGENCY:
        return False
    return role == "supervisor" or HOTLINE_AGENCY[hotline] == role


def may_see(principal: Principal, subscription: Subscription, hotline: str | None, area: str | None) -> bool:
    """True only when routing, the token's areas and the subscription all allow it; unknown means no."""
    if principal.is_sender or not receives_hotline(principal.role, hotline):
        return False
    if principal.areas and area not in principal.areas:
        return False
    if subscription.hotlines and hotline not in subscription.hotlines:
        return False
    return not (subscription.areas and area not in subscription.areas)
