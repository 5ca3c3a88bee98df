"""Cases: a tenant's submission, the lifecycle's caller actions, the rating. Each handler checks
the rights on the row it read, the case's version (``If-Match``) and the rules, changes the rows,
and returns the case as the caller reads it (queries.cases.case_detail). Never commits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.consulting.commands.cases import ActOnCase, RateCase, SubmitCase
from services.consulting.handlers import sla
from services.consulting.handlers.common import load_case, new_id, record, remember_category_names
from services.consulting.handlers.routing import route_case
from services.consulting.handlers.transitions import publish_case, transition
from services.consulting.models import Case, CaseCounter, Category, FirmCategory, Quote, Rating, ServiceItem, directory
from services.consulting.permissions import RIGHTS, sees_tenant_names
from services.consulting.queries.cases import case_detail, new_case_detail
from services.consulting.rules import CALLER_ACTIONS, check_rating, check_reason, check_start, next_status
from services.consulting.rules.intake import check_answers
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, RuleViolation, check_version
from shared.i18n import _
from shared.yearly_numbers import next_yearly_number


def case_number(uow: UnitOfWork, at: datetime) -> str:
    """The next human number of the park year of ``at``: ``C-2026-00042``, distinct under
    concurrent submissions (:func:`shared.yearly_numbers.next_yearly_number`)."""
    return next_yearly_number(uow.session, CaseCounter, "C", at)


def submit_case(cmd: SubmitCase, *, uow: UnitOfWork) -> dict[str, Any]:
    """A tenant's case for a service item of the catalogue: the category is the item's; the item
    and its category must be offered (422 ``rule/item-unknown``, ``rule/item-inactive``,
    ``rule/category-inactive``); the answers are checked against the item's intake form (422
    ``rule/intake-answers``). The case is ``submitted``, numbered, in the audit trail ("submit"),
    its tenant clocks started, ``consulting.case.submitted`` published."""
    RIGHTS.require(cmd.actor, "submit")
    now = cmd.at or utcnow()
    item = uow.session.get(ServiceItem, cmd.item_id)
    if item is None:
        raise RuleViolation(
            _("There is no service item {id} in the catalogue.", id=cmd.item_id), code="rule/item-unknown"
        )
    if not item.active:
        raise RuleViolation(_("This service item is no longer offered."), code="rule/item-inactive")
    category = uow.session.get(Category, item.category_code)
    if category is None or not category.active:
        raise RuleViolation(_("The category of this service item is no longer offered."), code="rule/category-inactive")
    answers = check_answers(item.intake_fields or [], cmd.answers)
    case = Case(
        id=new_id(),
        number=case_number(uow, now),
        org_id=cmd.actor.org_id,
        submitted_by=cmd.actor.subject,
        submitted_by_name=cmd.actor.name or None,
        category_code=category.code,
        item_id=item.id,
        subject=cmd.subject,
        description=cmd.description,
        answers=answers,
        quote_required=item.quote_required,
        priority=cmd.priority,
        status="submitted",
        firm_org_id=None,
        declined_by=[],
        submitted_at=now,
        updated_at=now,
    )
    uow.session.add(case)
    uow.session.flush()
    record(uow, case, "submit", from_status=None, actor=cmd.actor, at=now)
    clocks = sla.on_submitted(uow, case, item, now)
    uow.session.flush()
    remember_category_names(uow.session, category)  # the event's names: no read of the catalogue
    publish_case(uow, case, "consulting.case.submitted", previous_status=None, at=now, reason=None)
    # Answered from what was just written (one read of names, one of the calendar), not read back.
    return new_case_detail(uow.session, cmd.actor, case, item=item, category=category, clocks=clocks, now=now)


Step = Callable[[UnitOfWork, Case, ActOnCase, datetime], tuple[dict[str, Any], dict[str, Any]]]
"""An action's own part: the case's fields it changes and the audit line's details."""


def _triage(uow: UnitOfWork, case: Case, cmd: ActOnCase, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    if cmd.priority is None or cmd.priority == case.priority:
        return {}, {}
    return {"priority": cmd.priority}, {"priority": cmd.priority, "previous_priority": case.priority}


def firm_serving(uow: UnitOfWork, case: Case, firm_org_id: str) -> str:
    """``firm_org_id`` if the desk may hand ``case`` to it: a firm serving the case's category
    (422 ``rule/firm-not-serving``), active in the directory (``rule/firm-inactive``), that has
    not declined the case (``rule/firm-declined``) and does not hold it already
    (``rule/firm-already-assigned``)."""
    serves = uow.session.get(FirmCategory, (firm_org_id, case.category_code))
    if serves is None:
        raise RuleViolation(
            _("Organisation {firm} is not a firm serving this case's category.", firm=firm_org_id),
            code="rule/firm-not-serving",
            firm_org_id=firm_org_id,
        )
    status = uow.session.execute(select(directory.c.status).where(directory.c.id == firm_org_id)).scalar()
    if status != "active":
        raise RuleViolation(
            _("Firm {firm} is not active in the park's directory.", firm=firm_org_id),
            code="rule/firm-inactive",
            firm_org_id=firm_org_id,
        )
    if firm_org_id in (case.declined_by or ()):
        raise RuleViolation(
            _("Firm {firm} has declined this case already.", firm=firm_org_id),
            code="rule/firm-declined",
            firm_org_id=firm_org_id,
        )
    if firm_org_id == case.firm_org_id:
        raise RuleViolation(
            _("This case is assigned to firm {firm} already.", firm=firm_org_id),
            code="rule/firm-already-assigned",
            firm_org_id=firm_org_id,
        )
    return firm_org_id


def _assign(uow: UnitOfWork, case: Case, cmd: ActOnCase, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    firm = firm_serving(uow, case, cmd.firm_org_id or "")
    details = {"firm_org_id": firm, **({"previous_firm_org_id": case.firm_org_id} if case.firm_org_id else {})}
    return {"firm_org_id": firm, "assigned_at": now}, details


def _decline(uow: UnitOfWork, case: Case, cmd: ActOnCase, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    firm = case.firm_org_id
    declined = [*(case.declined_by or []), *([firm] if firm else [])]
    return {"firm_org_id": None, "assigned_at": None, "declined_by": declined}, {"firm_org_id": firm}


def _start(uow: UnitOfWork, case: Case, cmd: ActOnCase, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """Paid work waits for the tenant's yes to the firm assigned: the case's own
    ``quote_required`` (the item's when it was submitted; a later change of the catalogue does not
    move it) needs a quote of the case's current firm accepted (``rule/quote-not-accepted``); and
    no case starts while a quote of that firm still waits for the tenant's answer
    (``rule/quote-pending``, 409): the tenant would not have said yes or no to the price."""
    statuses = set(
        uow.session.scalars(
            select(Quote.status)
            .where(
                Quote.case_id == case.id,
                Quote.firm_org_id == case.firm_org_id,
                Quote.status.in_(("accepted", "proposed")),
            )
            .distinct()
        )
    )
    if "proposed" in statuses:
        raise Conflict(
            _("A quote waits for the tenant's answer: work starts once they have accepted or rejected it."),
            code="rule/quote-pending",
        )
    check_start(quote_required=case.quote_required, quote_accepted="accepted" in statuses)
    return {}, {}


def _propose(uow: UnitOfWork, case: Case, cmd: ActOnCase, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    if not (cmd.solution and cmd.solution.strip()):
        raise RuleViolation(_("Describe the solution."), code="rule/solution-required")
    return {"solution": cmd.solution.strip(), "solution_proposed_at": now}, {}


def _close(uow: UnitOfWork, case: Case, cmd: ActOnCase, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    return {"closed_at": now}, {}


def _nothing(uow: UnitOfWork, case: Case, cmd: ActOnCase, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    return {}, {}


STEPS: dict[str, Step] = {
    "triage": _triage,
    "assign": _assign,
    "accept": _nothing,
    "decline": _decline,
    "start": _start,
    "wait": _nothing,
    "resume": _nothing,
    "propose_solution": _propose,
    "accept_solution": _close,
    "reject_solution": _nothing,
    "cancel": _nothing,
}
assert set(STEPS) == set(CALLER_ACTIONS), "every caller action has its step"


def act_on_case(cmd: ActOnCase, *, uow: UnitOfWork) -> dict[str, Any]:
    """One caller action on a case, checked in this order: the case is visible to the caller
    (404), the rights table's row on it (403), ``If-Match`` (412), the state
    (409 ``rule/state-transition``), the reason (422 ``rule/reason-required``), the action's own
    rules. A triage routes the case at once when its category has a routing rule; an accepted
    solution may carry the rating (``stars``, ``comment``)."""
    if cmd.action not in STEPS:
        raise ValueError(f"not a caller action: {cmd.action!r}")
    case = load_case(uow, cmd.actor, cmd.case_id, for_update=True)
    RIGHTS.require(cmd.actor, cmd.action, case)
    check_version(case.version, cmd.expected_versions)
    next_status(case.status, cmd.action, for_tenant=sees_tenant_names(cmd.actor))
    reason = cmd.reason.strip() if cmd.reason and cmd.reason.strip() else None
    check_reason(cmd.action, reason, staff=cmd.actor.is_staff)
    now = cmd.at or utcnow()
    changes, details = STEPS[cmd.action](uow, case, cmd, now)
    transition(uow, case, cmd.action, actor=cmd.actor, at=now, reason=reason, changes=changes, details=details)
    if cmd.action == "triage":
        route_case(uow, case, now=now)
    if cmd.action == "accept_solution" and cmd.stars is not None:
        rate(uow, case, RateCase(cmd.actor, case.id, cmd.stars, cmd.comment), now)
    return case_detail(uow.session, cmd.actor, case, now=now)


def rate(uow: UnitOfWork, case: Case, cmd: RateCase, now: datetime) -> Rating:
    """Write the rating of ``case`` (closed, not rated yet, 1-5 stars: ``rules.check_rating``),
    with the firm that worked it."""
    RIGHTS.require(cmd.actor, "rate", case)
    check_rating(case.status, cmd.stars, rated=uow.session.get(Rating, case.id) is not None)
    comment = cmd.comment.strip() if cmd.comment and cmd.comment.strip() else None
    rating = Rating(
        case_id=case.id,
        stars=cmd.stars,
        comment=comment,
        firm_org_id=case.firm_org_id,
        rated_by=cmd.actor.subject,
        rated_by_name=cmd.actor.name or None,
        rated_at=now,
    )
    uow.session.add(rating)
    try:
        uow.session.flush()
    except IntegrityError:  # another rating got there first (SQLite has no row lock to wait on)
        raise Conflict(_("This case has been rated already."), code="rule/already-rated") from None
    return rating


def rate_case(cmd: RateCase, *, uow: UnitOfWork) -> dict[str, Any]:
    """The tenant's rating of a closed case, once (rules.check_rating); returns the case."""
    case = load_case(uow, cmd.actor, cmd.case_id, for_update=True)
    now = cmd.at or utcnow()
    rate(uow, case, cmd, now)
    return case_detail(uow.session, cmd.actor, case, now=now)
