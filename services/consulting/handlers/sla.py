"""The SLA clocks of a case: started, met, paused and stopped as the case moves (the hooks cases
and messages call after each change is flushed), and the breach job that warns and escalates.

The decisions (what starts, meets, pauses and stops a clock) are :mod:`..rules.sla`; here they
are applied to the rows. Nothing here commits.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.consulting.handlers.common import SYSTEM, case_payload, new_id, record, utc_text
from services.consulting.models import Case, CasePause, Message, ServiceItem, SlaClock, SlaNotice
from services.consulting.queries.calendar import load_business_calendar
from services.consulting.queries.sla import pauses_of
from services.consulting.rules import CLOCKS_PAUSED, OPEN, BusinessCalendar, share_reached
from services.consulting.rules.notices import missed_target
from services.consulting.rules.sla import (
    MET_BY,
    MET_BY_MESSAGE,
    STOPS_ALL,
    Pause,
    due_moment,
    escalated,
    policy_targets,
    policy_warn_share,
    used_minutes,
)
from shared.clock import as_utc, utcnow
from shared.db import UnitOfWork
from shared.i18n import render

BATCH = 500
"""Clocks the breach job reads at a time (with their cases and pauses: two queries a batch, and
two more for a batch with clocks due)."""

PER_RUN = 2_000
"""Notices one run of the breach job publishes at most: a backlog (say, the worker was down)
is worked off over several runs, none holding its locks long."""

WARNING, BREACH = "warning", "breach"

log = logging.getLogger(__name__)


# The hooks ----------------------------------------------------------------------------------------


def _start(uow: UnitOfWork, case: Case, item: ServiceItem, clock: str, at: datetime) -> list[SlaClock]:
    policy = item.sla_policy
    share = policy_warn_share(policy)
    started = [
        SlaClock(
            case_id=case.id,
            clock=clock,
            target=target,
            firm_org_id=case.firm_org_id if clock == "firm" else None,
            target_minutes=minutes,
            warn_share=share,
            started_at=at,
        )
        for target, minutes in policy_targets(policy, case.priority, clock).items()
    ]
    uow.session.add_all(started)
    return started


def _clocks(uow: UnitOfWork, case: Case) -> list[SlaClock]:
    uow.session.flush()
    query = select(SlaClock).where(SlaClock.case_id == case.id).order_by(SlaClock.id)
    return list(uow.session.execute(query).scalars())


def _running(clock: SlaClock) -> bool:
    return clock.met_at is None and clock.stopped_at is None


def _counts_for(clock: SlaClock, case: Case) -> bool:
    """A tenant's clock always; a firm's only while its firm is the one assigned."""
    return clock.clock == "tenant" or (case.firm_org_id is not None and clock.firm_org_id == case.firm_org_id)


def _meet(uow: UnitOfWork, case: Case, pairs: Iterable[tuple[str, str]], at: datetime) -> None:
    wanted = set(pairs)
    for clock in _clocks(uow, case):
        if _running(clock) and (clock.clock, clock.target) in wanted and _counts_for(clock, case):
            clock.met_at = at


def _stop(uow: UnitOfWork, case: Case, at: datetime, *, firm_only: bool) -> None:
    for clock in _clocks(uow, case):
        if _running(clock) and (not firm_only or not _counts_for(clock, case)):
            clock.stopped_at = at


def on_submitted(uow: UnitOfWork, case: Case, item: ServiceItem, at: datetime) -> list[SlaClock]:
    """Start the tenant's clocks (first response and resolution) of a case just submitted, with
    the targets of the item's policy for the case's priority; returns them (not yet flushed)."""
    return _start(uow, case, item, "tenant", at)


def on_transition(uow: UnitOfWork, case: Case, action: str, from_status: str | None, at: datetime) -> None:
    """Move the clocks after ``action`` took ``case`` from ``from_status`` to ``case.status``
    (the case row is already changed and flushed):

    - ``assign``: the firm's clocks start for the firm now assigned; on a reassignment (from
      ``assigned``) the clocks of the firm replaced stop first;
    - ``accept``/``decline``: the firm's first response is met; a decline stops that firm's
      other clocks (the case is back with the desk, no firm);
    - ``triage``, ``propose_solution``: the targets of :data:`rules.sla.MET_BY`;
    - ``wait`` opens a pause, ``resume`` closes it;
    - ``reject_solution``: the resolution targets the proposal met run again, and the time the
      tenant took to answer becomes a pause;
    - ``cancel``, ``accept_solution``, ``auto_close``: every clock still running stops.
    """
    session = uow.session
    if action == "assign":
        _stop(uow, case, at, firm_only=True)
        item = session.get(ServiceItem, case.item_id)
        if item is not None and case.firm_org_id is not None:
            _start(uow, case, item, "firm", at)
        return
    if action == "decline":
        # The firm answered (no): its first response is met, then its clocks stop. The case no
        # longer names the firm, so read the firm from the clocks still running.
        for clock in _clocks(uow, case):
            if clock.clock == "firm" and _running(clock):
                if clock.target == "first_response":
                    clock.met_at = at
                else:
                    clock.stopped_at = at
        return
    if action in MET_BY:
        _meet(uow, case, MET_BY[action], at)
    if action == "wait":
        if not _open_pause(session, case):
            session.add(CasePause(case_id=case.id, starts_at=at, ends_at=None))
    elif action == "resume":
        for pause in _open_pause(session, case):
            pause.ends_at = at
    elif action == "reject_solution":
        _reopen(uow, case, at)
    elif action in STOPS_ALL:
        _stop(uow, case, at, firm_only=False)


def _open_pause(session: Session, case: Case) -> list[CasePause]:
    session.flush()
    query = select(CasePause).where(CasePause.case_id == case.id, CasePause.ends_at.is_(None))
    return list(session.execute(query).scalars())


def _reopen(uow: UnitOfWork, case: Case, at: datetime) -> None:
    """The tenant rejected the solution: the resolution clocks it met count again, from where
    they stood; the proposal's time until now is a pause."""
    met = [
        clock
        for clock in _clocks(uow, case)
        if clock.target == "resolution" and clock.met_at is not None and clock.stopped_at is None
        if _counts_for(clock, case)
    ]
    if not met:
        return
    proposed = min(as_utc(clock.met_at) for clock in met if clock.met_at is not None)
    if case.solution_proposed_at is not None:
        proposed = min(proposed, as_utc(case.solution_proposed_at))
    for clock in met:
        clock.met_at = None
    if proposed < as_utc(at):
        uow.session.add(CasePause(case_id=case.id, starts_at=proposed, ends_at=at))


def on_tenant_visible_message(uow: UnitOfWork, case: Case, side: str, at: datetime) -> None:
    """A message the tenant reads, written by ``side`` (``firm`` or ``park``): a first response
    (:data:`rules.sla.MET_BY_MESSAGE`). The tenant's own messages meet nothing."""
    pairs = MET_BY_MESSAGE.get(side)
    if pairs:
        _meet(uow, case, pairs, at)


# The breach job -----------------------------------------------------------------------------------


def _insert_notice(session: Session, clock_id: int, kind: str, at: datetime) -> bool:
    """The notice row first, ``ON CONFLICT DO NOTHING``: True when this run inserted it (and so
    publishes), False when another run (or an earlier one) did."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(SlaNotice)
        .values(clock_id=clock_id, kind=kind, at=at)
        .on_conflict_do_nothing()
        .returning(SlaNotice.clock_id)
    )
    return session.execute(statement).first() is not None


def _batch(session: Session, after: int) -> list[tuple[SlaClock, Case]]:
    """The next :data:`BATCH` running clocks of open cases after clock ``after``, unlocked: most
    are not due, and a run must not hold every open case while it reads."""
    query = (
        select(SlaClock, Case)
        .join(Case, Case.id == SlaClock.case_id)
        .where(
            SlaClock.id > after,
            SlaClock.met_at.is_(None),
            SlaClock.stopped_at.is_(None),
            SlaClock.breached_at.is_(None),
            Case.status.in_(OPEN),
        )
        .order_by(SlaClock.id)
        .limit(BATCH)
    )
    return [(clock, case) for clock, case in session.execute(query)]


def _held(session: Session, clock_ids: Sequence[int]) -> list[tuple[SlaClock, Case]]:
    """The clocks ``clock_ids`` found due, read again with their cases locked (PostgreSQL:
    ``FOR UPDATE OF cases SKIP LOCKED``: a case a request holds is left to the next run instead
    of making the job wait or write over the request's change). Rows are refreshed, so a change
    committed since :func:`_batch` is seen. SQLite serialises writers: nothing to lock."""
    query = (
        select(SlaClock, Case)
        .join(Case, Case.id == SlaClock.case_id)
        .where(
            SlaClock.id.in_(clock_ids),
            SlaClock.met_at.is_(None),
            SlaClock.stopped_at.is_(None),
            SlaClock.breached_at.is_(None),
            Case.status.in_(OPEN),
        )
        .order_by(SlaClock.id)
        .with_for_update(of=Case, skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return [(clock, case) for clock, case in session.execute(query)]


def detect_breaches(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """The worker's job: for every running clock of an open case, publish
    ``consulting.case.sla_warning`` once the warning share of its target is used (not while the
    case is paused, and not for a clock already past its target: the breach says more), and
    ``consulting.case.sla_breached`` once the whole target is used, escalating the case (an
    ``escalate`` line in the audit trail, a note to the desk, and for a tenant's clock its
    priority one step up). Each (clock, kind) once, even when two runs meet: the
    :class:`SlaNotice` row is inserted first and only the run that inserted it publishes.

    Reads the calendar once and the clocks :data:`BATCH` at a time with their cases and pauses,
    unlocked; the clocks found due are read again with their cases locked (:func:`_held`), and
    each case's notices are written in a savepoint of their own: a case that fails is rolled
    back alone (logged) and tried again by the next run. A run publishes at most
    :data:`PER_RUN` notices; the rest wait for the next run. Returns how many it published."""
    now = as_utc(now or utcnow())
    session = uow.session
    calendar = load_business_calendar(session)
    published, after = 0, 0
    while published < PER_RUN and (batch := _batch(session, after)):
        after = batch[-1][0].id
        pauses = pauses_of(session, sorted({case.id for _, case in batch}))
        due = [clock.id for clock, case in batch if _due(clock, case, pauses.get(case.id, []), calendar, now)]
        if not due:
            continue
        by_case: dict[str, list[tuple[SlaClock, Case]]] = defaultdict(list)
        for clock, case in _held(session, due):
            by_case[case.id].append((clock, case))
        pauses = pauses_of(session, sorted(by_case))  # as they are now the cases are held
        for case_id, clocks in by_case.items():
            if published >= PER_RUN:
                break
            published += _check_case(uow, clocks, pauses.get(case_id, []), calendar=calendar, now=now)
    return published


def _due(clock: SlaClock, case: Case, pauses: list[Pause], calendar: BusinessCalendar, now: datetime) -> str | None:
    """The notice ``clock`` is due for at ``now`` (:data:`BREACH`, :data:`WARNING`) or None."""
    used = used_minutes(clock.started_at, now, calendar, pauses)
    if used >= clock.target_minutes:
        return BREACH
    paused = case.status in CLOCKS_PAUSED or any(end is None for _, end in pauses)
    if clock.warned_at is None and not paused and share_reached(used, clock.target_minutes, clock.warn_share):
        return WARNING
    return None


def _check_case(
    uow: UnitOfWork,
    clocks: list[tuple[SlaClock, Case]],
    pauses: list[Pause],
    *,
    calendar: BusinessCalendar,
    now: datetime,
) -> int:
    """The notices of one case's due clocks, in one savepoint: all of them or (logged) none."""
    try:
        with uow.session.begin_nested():
            return sum(_check(uow, clock, case, pauses, calendar=calendar, now=now) for clock, case in clocks)
    except Exception:
        log.exception("SLA notices of case %s failed; the next run tries again", clocks[0][1].id)
        return 0


def _check(
    uow: UnitOfWork, clock: SlaClock, case: Case, pauses: list[Pause], *, calendar: BusinessCalendar, now: datetime
) -> int:
    kind = _due(clock, case, pauses, calendar, now)
    if kind is None or not _insert_notice(uow.session, clock.id, kind, now):
        return 0
    used = used_minutes(clock.started_at, now, calendar, pauses)
    if kind == BREACH:
        clock.breached_at = now
        _escalate(uow, case, clock, now)
        _publish(uow, case, clock, verb="sla_breached", used=used, pauses=pauses, calendar=calendar, now=now)
    else:
        clock.warned_at = now
        _publish(uow, case, clock, verb="sla_warning", used=used, pauses=pauses, calendar=calendar, now=now)
    return 1


def missed_text(clock: str, target: str, minutes: int) -> str:
    """The desk's note on a missed target in English: the message's ``body`` (what a reader
    without the notice's rendering sees); the message's ``notice`` holds its code and values,
    rendered in the reader's language when read."""
    return render(missed_target(clock, target, minutes), "en")  # one text, also rendered from the notice


def _escalate(uow: UnitOfWork, case: Case, clock: SlaClock, now: datetime) -> None:
    """The audit line (staff's alone for a firm's clock: the history hides it from the tenant)
    and the desk's note. A tenant's clock raises the case's priority one step; a firm's does
    not: the tenant reads the priority, and the firm's commitment is between the park and the
    firm (the desk acts on the note)."""
    before = case.priority
    if clock.clock == "tenant":
        case.priority = escalated(before)
        case.updated_at = now
    record(
        uow,
        case,
        "escalate",
        from_status=case.status,
        actor=SYSTEM,
        at=now,
        clock=clock.clock,
        target=clock.target,
        target_minutes=clock.target_minutes,
        firm_org_id=clock.firm_org_id,
        priority_from=before,
        priority_to=case.priority,
    )
    uow.session.add(
        Message(
            id=new_id(),
            case_id=case.id,
            visibility="desk",
            body=missed_text(clock.clock, clock.target, clock.target_minutes),
            notice={
                "kind": "sla_breached",
                "clock": clock.clock,
                "target": clock.target,
                "target_minutes": clock.target_minutes,
            },
            author=SYSTEM.subject,
            author_name=SYSTEM.name,
            author_org_id=SYSTEM.org_id,
            author_side="park",
            created_at=now,
        )
    )


def _publish(
    uow: UnitOfWork,
    case: Case,
    clock: SlaClock,
    *,
    verb: str,
    used: int,
    pauses: list[Pause],
    calendar: BusinessCalendar,
    now: datetime,
) -> None:
    if uow.session.is_modified(case):
        uow.session.flush()  # the escalation bumps the case's version; the event carries the new one
    due = due_moment(clock.started_at, clock.target_minutes, calendar, pauses) or now
    data = case_payload(case, previous_status=case.status, at=now) | {
        "clock": clock.clock,
        "target": clock.target,
        "target_minutes": clock.target_minutes,
        "used_minutes": used,
        "due_at": utc_text(due),
    }
    uow.publish(f"consulting.case.{verb}", data, subject=f"cases/{case.id}", orgid=case.org_id)
