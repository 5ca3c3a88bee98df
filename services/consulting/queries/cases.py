"""Cases as their readers see them: one case, a page of cases, the audit trail."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from services.consulting.models import Case, CaseTransition, Category, Meeting, Rating, ServiceItem, SlaClock
from services.consulting.permissions import can_see, list_scope
from services.consulting.queries.organisations import organisation_ref, organisations
from services.consulting.queries.sla import new_case_sla_view, sla_view
from services.consulting.queries.views import case_view, line_shown, transition_view
from shared.clock import as_utc, utcnow
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal


def visible_case(session: Session, actor: Principal, case_id: str) -> Case:
    """The case if ``actor`` may read it; a 404 for anyone else (ids do not leak)."""
    case = session.get(Case, case_id)
    if case is None or not can_see(actor, case):
        raise NotFound(_("There is no case {id}.", id=case_id), code="not-found")
    return case


SLA_STATES = ("met", "running", "met_late", "warned", "breached")
"""The states a list shows per case (``sla_state``), from the least to the most worrying: the
worst of the clocks the reader may see. Each clock's, from what the breach job stored: ``breached``
past its target and not met, ``warned`` close to it and not met, ``met_late`` met after a breach,
``met`` met, else ``running``; a stopped clock (a firm that left, a cancelled case) counts not."""
_RANK = {state: rank for rank, state in enumerate(SLA_STATES, start=1)}


def sla_ranks(actor: Principal) -> Select[str, Any]:
    """One row per case with a clock ``actor`` may see: ``case_id`` and ``rank`` (the worst
    state's place in :data:`SLA_STATES`, from 1). The clocks a reader sees, as on the case's own
    page: staff all; a firm the tenant's clock and its own firm's; a tenant the tenant's."""
    rank = case(
        (and_(SlaClock.breached_at.is_not(None), SlaClock.met_at.is_(None)), _RANK["breached"]),
        (and_(SlaClock.warned_at.is_not(None), SlaClock.met_at.is_(None)), _RANK["warned"]),
        (and_(SlaClock.breached_at.is_not(None), SlaClock.met_at.is_not(None)), _RANK["met_late"]),
        (SlaClock.met_at.is_(None), _RANK["running"]),
        else_=_RANK["met"],
    )
    query = select(SlaClock.case_id, func.max(rank).label("rank")).where(SlaClock.stopped_at.is_(None))
    scope = list_scope(actor)
    if scope == "firm":
        query = query.where(
            or_(SlaClock.clock == "tenant", and_(SlaClock.clock == "firm", SlaClock.firm_org_id == actor.org_id))
        )
    elif scope != "all":
        query = query.where(SlaClock.clock == "tenant")
    return query.group_by(SlaClock.case_id)


def sla_state_of(actor: Principal, clocks: Iterable[SlaClock]) -> str | None:
    """The ``sla_state`` :func:`sla_states` would read for a case whose clocks are ``clocks``
    (as held in the session, flushed), computed from them with the same rules as
    :func:`sla_ranks`, without a query. None when the reader sees no clock of the case."""
    scope = list_scope(actor)
    ranks = [
        _clock_rank(clock)
        for clock in clocks
        if clock.stopped_at is None
        and (
            scope == "all"
            or clock.clock == "tenant"
            or (scope == "firm" and clock.clock == "firm" and clock.firm_org_id == actor.org_id)
        )
    ]
    return SLA_STATES[max(ranks) - 1] if ranks else None


def _clock_rank(clock: SlaClock) -> int:
    """One clock's rank in :data:`SLA_STATES`, as the ``case`` expression of :func:`sla_ranks`."""
    if clock.breached_at is not None and clock.met_at is None:
        return _RANK["breached"]
    if clock.warned_at is not None and clock.met_at is None:
        return _RANK["warned"]
    if clock.breached_at is not None:
        return _RANK["met_late"]
    return _RANK["running"] if clock.met_at is None else _RANK["met"]


def sla_states(session: Session, actor: Principal, case_ids: Iterable[str]) -> dict[str, str]:
    """The ``sla_state`` of each case of ``case_ids`` as ``actor`` reads it, in one query (a case
    without a clock the reader sees is left out: null)."""
    ids = list(case_ids)
    if not ids:
        return {}
    rows = session.execute(sla_ranks(actor).where(SlaClock.case_id.in_(ids)))
    return {case_id: SLA_STATES[rank - 1] for case_id, rank in rows}


def reason_actions(session: Session, case_ids: Iterable[str]) -> dict[str, str]:
    """For each case, the action of its last audit line with a reason (whose ``case.reason`` it is)."""
    ids = list(case_ids)
    if not ids:
        return {}
    last = (
        select(CaseTransition.case_id, func.max(CaseTransition.id).label("id"))
        .where(CaseTransition.case_id.in_(ids), CaseTransition.reason.is_not(None))
        .group_by(CaseTransition.case_id)
        .subquery()
    )
    rows = session.execute(
        select(CaseTransition.case_id, CaseTransition.action).join(last, CaseTransition.id == last.c.id)
    )
    return {case_id: action for case_id, action in rows}


def _views(
    session: Session, actor: Principal, cases: list[Case], *, now: datetime | None, with_sla: bool
) -> list[dict[str, Any]]:
    if not cases:
        return []
    items = {
        i.id: i for i in session.scalars(select(ServiceItem).where(ServiceItem.id.in_({c.item_id for c in cases})))
    }
    categories = {
        c.code: c for c in session.scalars(select(Category).where(Category.code.in_({c.category_code for c in cases})))
    }
    ratings = {r.case_id: r for r in session.scalars(select(Rating).where(Rating.case_id.in_([c.id for c in cases])))}
    moment = now or utcnow()
    clocks = {c.id: sla_view(session, c, moment, actor) for c in cases} if with_sla else {}
    shown = [o for c in cases for o in (c.org_id, c.firm_org_id)]
    shown += [entry.get("firm_org_id") for entries in clocks.values() for entry in entries]
    if actor.is_staff:  # the firms that declined are the staff's to read
        shown += [o for c in cases for o in c.declined_by or []]
    names = organisations(session, shown)
    for entries in clocks.values():  # a firm's clock names its firm
        for entry in entries:
            entry["firm"] = organisation_ref(names, entry.get("firm_org_id"))
    reasons = reason_actions(session, [c.id for c in cases])
    worst = sla_states(session, actor, [c.id for c in cases])
    return [
        case_view(
            case,
            actor,
            item=items[case.item_id],
            category=categories[case.category_code],
            organisations=names,
            rating=ratings.get(case.id),
            reason_action=reasons.get(case.id),
            sla=clocks.get(case.id) if with_sla else None,
            sla_state=worst.get(case.id),
        )
        for case in cases
    ]


def case_detail(session: Session, actor: Principal, case: Case, *, now: datetime | None = None) -> dict[str, Any]:
    """``case`` as ``actor`` reads it, with its SLA clocks and the actions open to the caller."""
    view = _views(session, actor, [case], now=now, with_sla=True)[0]
    view["meetings"] = meeting_briefs(session, case.id)
    return view


def new_case_detail(
    session: Session,
    actor: Principal,
    case: Case,
    *,
    item: ServiceItem,
    category: Category,
    clocks: Sequence[SlaClock],
    now: datetime,
) -> dict[str, Any]:
    """:func:`case_detail` of a case its submission just wrote (flushed), built from what the
    handler holds instead of read back: ``item``, ``category`` and the SLA ``clocks`` it started.
    A new case has no rating, no meeting, no pause and no audit line with a reason; the names of
    the organisations and the business calendar are the reads left."""
    sla = new_case_sla_view(session, case, clocks, now, actor)
    names = organisations(session, [case.org_id, case.firm_org_id, *(entry.get("firm_org_id") for entry in sla)])
    for entry in sla:
        entry["firm"] = organisation_ref(names, entry.get("firm_org_id"))
    view = case_view(
        case,
        actor,
        item=item,
        category=category,
        organisations=names,
        rating=None,
        reason_action=None,
        sla=sla,
        sla_state=sla_state_of(actor, clocks),
    )
    view["meetings"] = []
    return view


def meeting_briefs(session: Session, case_id: str) -> list[dict[str, Any]]:
    """The case's meetings in brief, newest first: each read whole at
    ``/cases/{id}/meetings/{meeting_id}`` (whoever reads the case reads its meetings)."""
    query = select(Meeting).where(Meeting.case_id == case_id).order_by(Meeting.requested_at.desc(), Meeting.id.desc())
    return [
        {
            "id": m.id,
            "title": m.title,
            "starts_at": m.starts_at,
            "ends_at": m.ends_at,
            "status": m.status,
            "space_name": m.space_name,
            "space_name_zh": m.space_name_zh,
        }
        for m in session.scalars(query)
    ]


def get_case(session: Session, actor: Principal, case_id: str) -> dict[str, Any]:
    return case_detail(session, actor, visible_case(session, actor, case_id))


def history(session: Session, actor: Principal, case_id: str) -> list[dict[str, Any]]:
    """The audit trail, oldest first, as ``actor`` reads it (queries/views.py says what each sees)."""
    visible_case(session, actor, case_id)
    lines = session.scalars(select(CaseTransition).where(CaseTransition.case_id == case_id).order_by(CaseTransition.id))
    return [transition_view(line, actor) for line in lines if line_shown(actor, line)]


def scope_of(actor: Principal) -> ColumnElement[bool]:
    """The cases ``actor``'s lists hold (``permissions.list_scope``): their own, their
    organisation's, their firm's (assigned to it now: not those it declined or was replaced on),
    or all."""
    scope = list_scope(actor)
    if scope == "all":
        return Case.id.is_not(None)
    if scope == "firm":
        return Case.firm_org_id == actor.org_id
    if scope == "organisation":
        return Case.org_id == actor.org_id
    return and_(Case.org_id == actor.org_id, Case.submitted_by == actor.subject)


def filtered(actor: Principal, args: Mapping[str, Any]) -> Select[Any]:
    """The list's query: the caller's scope, then each filter given (a filter only narrows)."""
    query = select(Case).where(scope_of(actor))
    if args.get("status"):
        query = query.where(Case.status.in_(args["status"]))
    for name, column in (
        ("category", Case.category_code),
        ("priority", Case.priority),
        ("firm_org_id", Case.firm_org_id),
        ("org_id", Case.org_id),
    ):
        if args.get(name):
            query = query.where(column == args[name])
    if args.get("item_id"):
        query = query.where(Case.item_id == str(args["item_id"]))
    if args.get("submitted_from"):
        query = query.where(Case.submitted_at >= as_utc(args["submitted_from"]))
    if args.get("submitted_to"):
        query = query.where(Case.submitted_at < as_utc(args["submitted_to"]))
    if args.get("sla_state"):
        ranks = sla_ranks(actor).subquery()
        query = query.join(ranks, ranks.c.case_id == Case.id).where(ranks.c.rank == _RANK[args["sla_state"]])
    if args.get("q"):
        text = args["q"]
        query = query.where(
            or_(Case.subject.icontains(text, autoescape=True), Case.number.icontains(text, autoescape=True))
        )
    return query.order_by(Case.submitted_at.desc(), Case.number.desc())


def list_cases(session: Session, actor: Principal, args: Mapping[str, Any]) -> dict[str, Any]:
    """A page of the cases ``actor`` may list, newest first (``items``, ``page``, ``page_size``,
    ``total``); each without its SLA clocks (``sla`` null: the case's own page has them) but with
    its ``sla_state`` (:func:`sla_states`, one query for the page)."""
    query = filtered(actor, args)
    page, size = args.get("page", 1), args.get("page_size", 50)
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows: list[Case] = list(session.scalars(query.limit(size).offset((page - 1) * size)))
    return {
        "items": _views(session, actor, rows, now=None, with_sla=False),
        "page": page,
        "page_size": size,
        "total": int(total),
    }
