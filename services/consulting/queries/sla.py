"""The SLA clocks of a case as its readers see them (``api/schemas/cases.SlaSchema`` dumps an
entry, with the labels of its codes). A list's per-case ``sla_state`` is
:func:`services.consulting.queries.cases.sla_states` (the stored findings, filterable in SQL)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.consulting.models import Case, CasePause, SlaClock
from services.consulting.queries.calendar import load_business_calendar
from services.consulting.rules import CLOCKS_PAUSED, BusinessCalendar, share_used
from services.consulting.rules.sla import ClockFacts, Pause, clock_state, due_moment, used_minutes
from shared.clock import as_utc
from shared.principal import Principal

_ORDER = {("tenant", "first_response"): 0, ("tenant", "resolution"): 1, ("firm", "first_response"): 2}


def pauses_of(session: Session, case_ids: Sequence[str]) -> dict[str, list[Pause]]:
    """The pauses of the cases ``case_ids`` in one query, by case."""
    found: dict[str, list[Pause]] = defaultdict(list)
    if not case_ids:
        return found
    query = select(CasePause).where(CasePause.case_id.in_(case_ids)).order_by(CasePause.starts_at)
    for pause in session.execute(query).scalars():
        found[pause.case_id].append((pause.starts_at, pause.ends_at))
    return found


def visible_clocks(actor: Principal, case: Case) -> tuple[str, ...]:
    """Which clocks ``actor`` reads: staff both (every firm's that ever had the case); the firm
    assigned both (its own firm clocks only); anyone else who reads the case (the tenant's side)
    the tenant's alone: the firm's commitment is between the park and the firm."""
    if actor.is_staff:
        return ("tenant", "firm")
    if actor.is_partner and case.firm_org_id is not None and actor.org_id == case.firm_org_id:
        return ("tenant", "firm")
    return ("tenant",)


def _seen(actor: Principal, case: Case, clock: SlaClock) -> bool:
    """Whether ``actor`` reads ``clock`` of ``case`` (:func:`visible_clocks`; a firm its own
    firm clocks only, never those of a firm the case had before)."""
    if clock.clock not in visible_clocks(actor, case):
        return False
    return actor.is_staff or clock.clock == "tenant" or clock.firm_org_id == actor.org_id


def _paused(case: Case, pauses: list[Pause]) -> bool:
    return case.status in CLOCKS_PAUSED or any(end is None for _, end in pauses)


def _used_and_state(
    clock: SlaClock, calendar: BusinessCalendar, pauses: list[Pause], *, paused: bool, now: datetime
) -> tuple[int, str]:
    until = clock.met_at or clock.stopped_at or now
    used = used_minutes(clock.started_at, until, calendar, pauses)
    state = clock_state(
        ClockFacts(
            target_minutes=clock.target_minutes,
            used_minutes=used,
            warn_share=clock.warn_share,
            met=clock.met_at is not None,
            stopped=clock.stopped_at is not None,
            paused=paused,
        )
    )
    return used, state


def sla_view(session: Session, case: Case, now: datetime, actor: Principal) -> list[dict[str, Any]]:
    """One entry per clock and target of ``case`` that ``actor`` may see (:func:`visible_clocks`):
    ``clock``, ``target``, ``firm_org_id``, ``target_minutes``, ``used_minutes``,
    ``remaining_minutes`` (0 once passed), ``share`` (used / target, a decimal string with four
    places), ``state`` (:data:`rules.sla.STATES`), ``started_at``, ``due_at`` (when a running
    clock falls or fell due; None while paused, met or stopped), ``met_at``, ``stopped_at``.
    The caller has checked that ``actor`` reads the case."""
    rows = session.execute(select(SlaClock).where(SlaClock.case_id == case.id).order_by(SlaClock.id)).scalars()
    clocks = [clock for clock in rows if _seen(actor, case, clock)]
    if not clocks:
        return []
    calendar = load_business_calendar(session)
    pauses = pauses_of(session, [case.id]).get(case.id, [])
    return sla_entries(case, clocks, calendar, pauses, now)


def new_case_sla_view(
    session: Session, case: Case, clocks: Sequence[SlaClock], now: datetime, actor: Principal
) -> list[dict[str, Any]]:
    """:func:`sla_view` of a case just submitted, from the clocks its submission started
    (``clocks``, flushed) instead of reading them back: a new case has no pause yet. The business
    calendar is the one read left."""
    seen = [clock for clock in clocks if _seen(actor, case, clock)]
    if not seen:
        return []
    return sla_entries(case, seen, load_business_calendar(session), [], now)


def sla_entries(
    case: Case, clocks: Sequence[SlaClock], calendar: BusinessCalendar, pauses: list[Pause], now: datetime
) -> list[dict[str, Any]]:
    """The entries of :func:`sla_view` for ``clocks`` (those the reader sees), counted in
    ``calendar`` with ``pauses``."""
    now = as_utc(now)
    paused = _paused(case, pauses)
    entries: list[dict[str, Any]] = []
    for clock in clocks:
        used, state = _used_and_state(clock, calendar, pauses, paused=paused, now=now)
        running = clock.met_at is None and clock.stopped_at is None
        due = due_moment(clock.started_at, clock.target_minutes, calendar, pauses) if running else None
        entries.append(
            {
                "clock": clock.clock,
                "target": clock.target,
                "firm_org_id": clock.firm_org_id,
                "target_minutes": clock.target_minutes,
                "used_minutes": used,
                "remaining_minutes": max(clock.target_minutes - used, 0),
                "share": str(share_used(used, clock.target_minutes)),
                "state": state,
                "started_at": clock.started_at,
                "due_at": due,
                "met_at": clock.met_at,
                "stopped_at": clock.stopped_at,
            }
        )
    entries.sort(key=lambda e: (_ORDER.get((e["clock"], e["target"]), 3), e["started_at"]))
    return entries
