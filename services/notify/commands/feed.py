"""Commands of the feed: marking one notification read, or all of the caller's. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from shared.principal import Principal


@dataclass(frozen=True)
class MarkRead:
    """The caller has read one notification they may see (reading it again changes nothing)."""

    actor: Principal
    notification_id: str


@dataclass(frozen=True)
class MarkAllRead:
    """The caller has read every notification of their feed (those their preferences hide too)."""

    actor: Principal
