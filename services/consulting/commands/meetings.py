"""Meetings on a case: asking booking for a room, cancelling, asking again. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.principal import Principal


@dataclass(frozen=True)
class RequestMeeting:
    """The tenant or the firm assigned asks for a meeting on a case: booking is asked to hold a
    room of ``space_kind`` for ``attendees`` from ``starts_at`` to ``ends_at`` (aware)."""

    actor: Principal
    case_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    attendees: int
    space_kind: str = "conference_room"
    layout: str | None = None
    equipment: tuple[str, ...] = field(default_factory=tuple)
    note: str | None = None
    at: datetime | None = None
    """When the action is taken (UTC); None: now (tests pass it)."""


@dataclass(frozen=True)
class CancelMeeting:
    """Who asked, a tenant admin or staff cancel a meeting; a room booking holds is released."""

    actor: Principal
    case_id: str
    meeting_id: str
    expected_versions: frozenset[int] | None = None
    reason: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class RetryMeeting:
    """Staff ask booking again for a meeting it did not answer or refused, under a new
    ``request_id``, optionally at other times (one of the alternatives, say)."""

    actor: Principal
    case_id: str
    meeting_id: str
    expected_versions: frozenset[int] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    at: datetime | None = None
