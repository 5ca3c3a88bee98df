"""The SLA clocks of a case, pure: which targets a policy sets, what meets each one, how much
business time a clock used, when it falls due, what state it is in, and how a missed target
escalates the case. No session, no Flask: the handlers (``handlers/sla.py``) and the queries
(``queries/sla.py``) feed it rows and a :class:`BusinessCalendar`.

Decisions (docs/CONSULTING.md, "SLA clocks, breaches and reports"):

- Two clocks per case, each with two targets (first response, resolution): the tenant's (the
  park's promise) starts at submission with the case's priority then; the firm's starts at each
  assignment, with the priority the case has at that moment, and belongs to that firm
  (``firm_org_id``). Targets are copied when a clock starts: a later change of the item's policy,
  or of the case's priority (an escalation included), does not move a running clock.
- What meets a target is :data:`MET_BY` (actions) and :data:`MET_BY_MESSAGE` (a message the
  tenant sees, by side). A rejected solution un-meets the resolution targets it met, and the time
  from the proposal to the rejection is a pause: the tenant's thinking is nobody's work time.
- Pauses (the case waits on the tenant, or the tenant weighed a solution then rejected it) stop
  every clock of the case.
- A clock's used time runs from its start to when it was met, stopped, or now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from services.consulting.rules.business_time import (
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
    share_reached,
)
from shared.events.consulting import PRIORITIES, SLA_TARGETS

__all__ = [
    "DEFAULT_WARN_SHARE",
    "MET_BY",
    "MET_BY_MESSAGE",
    "STATES",
    "ClockFacts",
    "Pause",
    "clock_state",
    "due_moment",
    "escalated",
    "policy_targets",
    "policy_warn_share",
    "used_minutes",
]

Pause = tuple[datetime, datetime | None]
"""A time the clocks stood still: its start and its end (None: it still lasts)."""

DEFAULT_WARN_SHARE = Decimal("0.8")
"""The share of a target at which the warning goes out when a policy names none."""

STATES = ("running", "paused", "warned", "breached", "met", "met_late", "stopped")
"""A clock's state as readers see it: counting (``running``; ``warned`` once the warning share
is reached), standing still (``paused``), past its target and still counting (``breached``),
met in time (``met``) or after the target (``met_late``), or no longer counting (``stopped``:
the firm declined or was replaced, the case was cancelled)."""

MET_BY: Mapping[str, tuple[tuple[str, str], ...]] = {
    "triage": (("tenant", "first_response"),),
    "accept": (("firm", "first_response"),),
    "decline": (("firm", "first_response"),),
    "propose_solution": (
        ("tenant", "first_response"),
        ("tenant", "resolution"),
        ("firm", "first_response"),
        ("firm", "resolution"),
    ),
}
"""The (clock, target) pairs each action meets, when still running. Triage is the park's first
answer to the tenant; the firm's is to accept or decline; a proposed solution resolves (and, if
nothing had, answers). A firm's targets are met only on the clocks of the firm assigned."""

MET_BY_MESSAGE: Mapping[str, tuple[tuple[str, str], ...]] = {
    "park": (("tenant", "first_response"),),
    "firm": (("tenant", "first_response"), ("firm", "first_response")),
}
"""A message the tenant sees, by the side that wrote it: the park's answers the tenant; the
firm's answers the tenant and is the firm's own first response."""

STOPS_ALL = ("cancel", "accept_solution", "auto_close")
"""Actions after which no clock of the case counts any more (a closed case's clocks were met by
its proposal; any left running, e.g. a firm's first response never given, stop)."""

_TARGET_LIMIT = 10_000_000
"""More business minutes than any sane target (about 100 working years): refused as a policy."""


def policy_warn_share(policy: Mapping[str, Any] | None) -> Decimal:
    """The policy's ``warn_share`` (a decimal over 0 and below 1), else :data:`DEFAULT_WARN_SHARE`."""
    raw = (policy or {}).get("warn_share")
    try:
        share = Decimal(str(raw)) if raw is not None else DEFAULT_WARN_SHARE
    except InvalidOperation:
        return DEFAULT_WARN_SHARE
    return share if share.is_finite() and Decimal(0) < share < Decimal(1) else DEFAULT_WARN_SHARE


def policy_targets(policy: Mapping[str, Any] | None, priority: str, clock: str) -> dict[str, int]:
    """The targets (business minutes, by target) of ``clock`` for a case of ``priority``; a
    priority the policy lacks takes ``normal``'s; a target missing or not a positive whole number
    has no clock (the item promises nothing there)."""
    targets = (policy or {}).get("targets") or {}
    by_priority = targets.get(priority) or targets.get("normal") or {}
    by_clock = by_priority.get(clock) or {}
    found: dict[str, int] = {}
    for target in SLA_TARGETS:
        value = by_clock.get(target)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _TARGET_LIMIT:
            found[target] = value
    return found


def escalated(priority: str) -> str:
    """One step up: low → normal → high → urgent; urgent stays urgent."""
    index = PRIORITIES.index(priority)
    return PRIORITIES[min(index + 1, len(PRIORITIES) - 1)]


def _merged(pauses: Iterable[Pause]) -> list[Pause]:
    """The pauses sorted and joined where they overlap or touch (an open one swallows the rest)."""
    merged: list[Pause] = []
    for begin, end in sorted(pauses, key=lambda p: p[0]):
        if end is not None and end <= begin:
            continue
        if merged:
            last_begin, last_end = merged[-1]
            if last_end is None:
                break
            if begin <= last_end:
                merged[-1] = (last_begin, None if end is None else max(last_end, end))
                continue
        merged.append((begin, end))
    return merged


def used_minutes(
    started_at: datetime, until: datetime, calendar: BusinessCalendar, pauses: Sequence[Pause] = ()
) -> int:
    """Business minutes a clock started at ``started_at`` used until ``until`` (its met or stop
    time, or now), outside the pauses."""
    return business_minutes_between(started_at, until, calendar, pauses)


def due_moment(
    started_at: datetime, target_minutes: int, calendar: BusinessCalendar, pauses: Sequence[Pause] = ()
) -> datetime | None:
    """When a clock started at ``started_at`` reaches ``target_minutes`` of business time outside
    ``pauses`` (past or future); None when a pause still open stops it first (no due time while
    paused)."""
    cursor, remaining = started_at, target_minutes
    for begin, end in _merged(pauses):
        if end is not None and end <= cursor:
            continue
        if begin > cursor:
            due = add_business_minutes(cursor, remaining, calendar)
            if due <= begin:
                return due
            remaining -= business_minutes_between(cursor, begin, calendar)
        if end is None:
            return None
        cursor = max(cursor, end)
    return add_business_minutes(cursor, max(remaining, 0), calendar)


@dataclass(frozen=True)
class ClockFacts:
    """What the state of a clock is read from."""

    target_minutes: int
    used_minutes: int
    warn_share: Decimal
    met: bool
    stopped: bool
    paused: bool


def clock_state(facts: ClockFacts) -> str:
    """The clock's state (:data:`STATES`), from the time it used, not from the breach job's
    findings (which may lag a run behind). A target is missed once the whole target is used
    (``used >= target``, as the breach job counts), so met in time is ``used < target``.
    Met/met_late and stopped first, then breached (a
    clock past its target stays breached while paused), paused, warned, running."""
    if facts.met:
        return "met" if facts.used_minutes < facts.target_minutes else "met_late"
    if facts.stopped:
        return "stopped"
    if facts.used_minutes >= facts.target_minutes:
        return "breached"
    if facts.paused:
        return "paused"
    if share_reached(facts.used_minutes, facts.target_minutes, facts.warn_share):
        return "warned"
    return "running"
