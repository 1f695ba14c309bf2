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


class Audience:
    """Consoles that see the same events (same role, areas and subscription): one decision serves them all."""

    __slots__ = ("_principal", "_subscription")

    def __init__(self, principal: Principal, subscription: Subscription) -> None:
        self._principal = principal  # any one of them: its name plays no part in may_see
        self._subscription = subscription

    def admits(self, hotline: str | None, area: str | None) -> bool:
        return may_see(self._principal, self._subscription, hotline, area)


def audience(principal: Principal, subscription: Subscription) -> Audience:
    """The audience of a console: the same object for every console with the same rights and filter."""
    key = (principal.role, principal.areas, subscription)
    found = _AUDIENCES.get(key)
    if found is None:
        if len(_AUDIENCES) >= _KEPT_AUDIENCES:  # consoles choose their filters: do not grow without end
            _AUDIENCES.clear()
        found = _AUDIENCES[key] = Audience(principal, subscription)
    return found


_AUDIENCES: dict[tuple[str, frozenset[str], Subscription], Audience] = {}
_KEPT_AUDIENCES = 4096
