"""The automatic close: a proposed solution the tenant left unanswered for
``rules.AUTO_CLOSE_DAYS`` calendar days closes the case (``auto_close``, by the system; the
``closed`` event says ``automatic``). Never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from services.consulting.handlers.common import SYSTEM
from services.consulting.handlers.transitions import transition
from services.consulting.models import Case
from services.consulting.rules import AUTO_CLOSE_DAYS, auto_close_due
from shared.clock import utcnow
from shared.db import UnitOfWork


def close_unanswered(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """The worker's job: close every case whose solution is due to close (``rules.auto_close_due``);
    returns how many. Idempotent: a closed case is no longer ``solution_proposed``."""
    now = now or utcnow()
    due = uow.session.scalars(
        select(Case)
        .where(Case.status == "solution_proposed", Case.solution_proposed_at <= now - timedelta(days=AUTO_CLOSE_DAYS))
        .order_by(Case.solution_proposed_at, Case.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    closed = 0
    for case in list(due):
        if case.solution_proposed_at is None or not auto_close_due(case.solution_proposed_at, now):
            continue
        transition(uow, case, "auto_close", actor=SYSTEM, at=now, changes={"closed_at": now}, automatic=True)
        closed += 1
    return closed
