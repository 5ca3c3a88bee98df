"""What callers ask booking to do: small frozen commands, each naming who asks (a
:class:`shared.principal.Principal`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared.principal import Principal


@dataclass(frozen=True)
class VisitorDetails:
    name: str
    company: str | None = None
    car_plate: str | None = None
    plate_kind: str | None = None
    """``mainland`` or ``other`` as the API checked it; None for a plate that came unchecked (a room hold)."""


@dataclass(frozen=True)
class SaveSpace:
    actor: Principal
    details: Mapping[str, Any]
    space_id: str | None = None
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class AddClosure:
    actor: Principal
    space_id: str
    starts_at: datetime
    ends_at: datetime
    reason: str


@dataclass(frozen=True)
class RemoveClosure:
    actor: Principal
    space_id: str
    closure_id: str


@dataclass(frozen=True)
class SetQuota:
    actor: Principal
    org_id: str
    space_kind: str
    free_hours_per_month: int
    expected_versions: frozenset[int] | None = None
    """The versions ``If-Match`` accepts (None: ``*``); a rule that does not exist yet is version 0."""


@dataclass(frozen=True)
class RequestReservation:
    actor: Principal
    space_id: str
    start: datetime
    end: datetime
    title: str
    attendees: int
    layout: str | None = None
    note: str | None = None
    visitors: tuple[VisitorDetails, ...] = ()
    org_id: str | None = None
    request_id: str | None = None
    requester: str | None = None
    purpose: str | None = None
    """``roadshow`` or ``product_launch`` (an event booking: rules/purposes.py); None for an ordinary one."""
    purpose_ref: str | None = None
    """A roadshow's financing round: the finance application whose venture-capital or guide-fund offer was accepted."""


@dataclass(frozen=True)
class ActOnReservation:
    """approve, reject, cancel, check_in or complete one reservation."""

    actor: Principal
    reservation_id: str
    action: str
    expected_versions: frozenset[int] | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RescheduleReservation:
    actor: Principal
    reservation_id: str
    start: datetime
    end: datetime
    space_id: str | None = None
    expected_versions: frozenset[int] | None = None
    reason: str | None = None


@dataclass(frozen=True)
class EditReservation:
    """Change a reservation's details (not its time or space: that is a reschedule).

    ``changes`` holds only the fields the caller gave (a JSON merge patch), among ``title``,
    ``attendees``, ``layout`` (None: no layout), ``note`` (None: no note) and ``visitors`` (a
    tuple of :class:`VisitorDetails`, the whole new list)."""

    actor: Principal
    reservation_id: str
    changes: Mapping[str, Any]
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class ReplaceVisitors:
    actor: Principal
    reservation_id: str
    visitors: tuple[VisitorDetails, ...]
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class RequestSeries:
    actor: Principal
    space_id: str
    start: datetime
    end: datetime
    rrule: str
    title: str
    attendees: int
    mode: str = "all_or_nothing"
    layout: str | None = None
    note: str | None = None
    visitors: tuple[VisitorDetails, ...] = ()
    org_id: str | None = None


@dataclass(frozen=True)
class CancelSeries:
    """Cancel the occurrences of a series from ``from_reservation_id`` on (all upcoming if None)."""

    actor: Principal
    series_id: str
    from_reservation_id: str | None = None
    reason: str | None = None
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class MoveSeries:
    """Move the occurrences from ``from_reservation_id`` on by ``shift_minutes`` (and/or to a space)."""

    actor: Principal
    series_id: str
    from_reservation_id: str | None = None
    shift_minutes: int = 0
    space_id: str | None = None
    mode: str = "all_or_nothing"
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class LetBooth:
    """Let booth ``booth`` of a hall booking to an exhibitor (``exhibitor_org_id``: an
    organisation in booking's directory, when the exhibitor is one)."""

    actor: Principal
    reservation_id: str
    booth: int
    exhibitor: str
    exhibitor_org_id: str | None = None
    contact: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ReleaseBooth:
    actor: Principal
    reservation_id: str
    booth: int


@dataclass(frozen=True)
class LoadOfficialYear:
    """Replace ``year`` of the park's calendar with the official schedule's days."""

    actor: Principal
    year: int


@dataclass(frozen=True)
class DayEntry:
    """One special day of the park's calendar as park admin typed it: ``kind`` ``holiday`` or
    ``workday``, ``name`` a festival's code or free text."""

    day: date
    kind: str
    name: str | None = None


@dataclass(frozen=True)
class EnterYear:
    """Replace ``year`` of the park's calendar with ``days`` (every special day of the year)."""

    actor: Principal
    year: int
    days: tuple[DayEntry, ...]


@dataclass(frozen=True)
class OpenFeed:
    """Give the secret of a calendar feed (made on first use)."""

    actor: Principal
    scope: str
    owner_id: str


@dataclass(frozen=True)
class RotateFeed:
    actor: Principal
    scope: str
    owner_id: str


@dataclass(frozen=True)
class OccurrenceOutcome:
    """What happened to one occurrence of a series request or move."""

    index: int
    start: datetime
    end: datetime
    outcome: str
    reservation_id: str | None = None
    status: str | None = None
    problem: Mapping[str, Any] | None = field(default=None)


@dataclass(frozen=True)
class SeriesOutcome:
    """What a series request, cancel or move did: the series' new version and each occurrence's outcome."""

    series_id: str
    version: int
    occurrences: tuple[OccurrenceOutcome, ...]
