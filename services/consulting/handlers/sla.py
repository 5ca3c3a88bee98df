"""The SLA clocks of a case: started, met, paused and stopped as the case moves, and the breach
job that warns and escalates. (Being built: issue 8, the SLA helper owns this module.)"""

from __future__ import annotations

from datetime import datetime

from services.consulting.models import Case, ServiceItem
from shared.db import UnitOfWork


def on_submitted(uow: UnitOfWork, case: Case, item: ServiceItem, at: datetime) -> None:
    """Start the tenant's clocks (first response and resolution) of a case just submitted."""


def on_transition(uow: UnitOfWork, case: Case, action: str, from_status: str | None, at: datetime) -> None:
    """Move the clocks after ``action`` took ``case`` from ``from_status`` to ``case.status``
    (the case row is already changed and flushed)."""


def on_tenant_visible_message(uow: UnitOfWork, case: Case, side: str, at: datetime) -> None:
    """A message the tenant reads, written by ``side`` (``firm`` or ``park``): a first response."""


def detect_breaches(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """The worker's job: warn and breach, once per clock and kind. Returns how many notices."""
    return 0
