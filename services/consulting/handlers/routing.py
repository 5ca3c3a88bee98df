"""Routing: triaged cases without a firm, in categories whose rule is ``round_robin`` or
``least_load``, go to a firm serving the category. Run by the worker's job (:func:`route_triaged`)
and at once when the desk triages (:func:`route_case`). Never commits.

- The firms eligible for a case: those that declared its category (``FirmCategory``), are active
  in the directory and have not declined the case (``declined_by``), in the order of their
  organisation ids.
- ``round_robin``: the first eligible firm after the category's ``last_routed_firm`` (after the
  last one, the first again); ``least_load``: the fewest open cases assigned (``rules.OPEN``),
  ties broken by the same round-robin order. Either way ``last_routed_firm`` becomes the firm
  chosen, under the category's row lock (``FOR UPDATE``), so two runs never hand out one turn.
- No firm eligible: the case stays with the desk (triaged), and the job tries it again each run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from services.consulting.handlers.common import SYSTEM
from services.consulting.handlers.transitions import transition
from services.consulting.models import Case, Category, FirmCategory, directory
from services.consulting.rules import OPEN
from shared.clock import utcnow
from shared.db import UnitOfWork

RULES = ("round_robin", "least_load")
"""The routing rules the worker applies; ``manual`` leaves the case to the desk."""


def eligible_firms(uow: UnitOfWork, case: Case) -> list[str]:
    """The firms that may get ``case``, ordered by organisation id."""
    query = (
        select(FirmCategory.firm_org_id)
        .join(directory, directory.c.id == FirmCategory.firm_org_id)
        .where(FirmCategory.category_code == case.category_code, directory.c.status == "active")
        .order_by(FirmCategory.firm_org_id)
    )
    declined = set(case.declined_by or ())
    return [firm for firm in uow.session.scalars(query) if firm not in declined]


def in_turn(firms: list[str], last: str | None) -> list[str]:
    """``firms`` (sorted) in round-robin order: those after ``last`` first, then the rest."""
    if last is None:
        return firms
    return [f for f in firms if f > last] + [f for f in firms if f <= last]


def open_load(uow: UnitOfWork, firms: list[str]) -> dict[str, int]:
    """How many open cases each of ``firms`` has assigned."""
    query = (
        select(Case.firm_org_id, func.count())
        .where(Case.firm_org_id.in_(firms), Case.status.in_(OPEN))
        .group_by(Case.firm_org_id)
    )
    return {firm: int(n) for firm, n in uow.session.execute(query) if firm is not None}


def choose_firm(uow: UnitOfWork, case: Case, category: Category) -> str | None:
    """The firm ``category``'s rule gives ``case`` (None: nobody eligible)."""
    turn = in_turn(eligible_firms(uow, case), category.last_routed_firm)
    if not turn:
        return None
    if category.routing == "least_load":
        load = open_load(uow, turn)
        return min(turn, key=lambda firm: load.get(firm, 0))  # min keeps the first of equals: the turn
    return turn[0]


def route_case(uow: UnitOfWork, case: Case, *, now: datetime) -> bool:
    """Assign ``case`` (triaged, no firm) by its category's rule, as the system; whether it was.
    Takes the category's row lock for the turn."""
    category = uow.session.get(Category, case.category_code, with_for_update=True, populate_existing=True)
    if category is None or category.routing not in RULES or case.status != "triaged" or case.firm_org_id:
        return False
    firm = choose_firm(uow, case, category)
    if firm is None:
        return False
    category.last_routed_firm = firm
    assign_by_system(uow, case, firm, at=now, routing=category.routing)
    return True


def assign_by_system(uow: UnitOfWork, case: Case, firm: str, *, at: datetime, **why: str) -> None:
    """The system assigns ``case`` to ``firm`` (``why`` goes to the audit line: the routing rule,
    or the service that asked for that firm)."""
    transition(
        uow,
        case,
        "assign",
        actor=SYSTEM,
        at=at,
        changes={"firm_org_id": firm, "assigned_at": at},
        details={**why, "firm_org_id": firm},
    )


def route_triaged(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """The worker's job: route every triaged case without a firm in a category with a rule,
    oldest first; returns how many were assigned. Idempotent: an assigned case is not triaged."""
    now = now or utcnow()
    routed = 0
    codes = list(uow.session.scalars(select(Category.code).where(Category.routing.in_(RULES)).order_by(Category.code)))
    for code in codes:
        # The category's lock first: a second run waits here, then reads the cases afresh.
        uow.session.get(Category, code, with_for_update=True, populate_existing=True)
        waiting = uow.session.scalars(
            select(Case)
            .where(Case.category_code == code, Case.status == "triaged", Case.firm_org_id.is_(None))
            .order_by(Case.submitted_at, Case.id)
            .with_for_update(skip_locked=True)  # a case a request is changing waits for the next run
            .execution_options(populate_existing=True)
        )
        for case in list(waiting):
            routed += route_case(uow, case, now=now)
    return routed
