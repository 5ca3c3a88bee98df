"""One step of a case's lifecycle, whoever takes it (a caller, the routing rule, the automatic
close): the state checked and moved (:func:`services.consulting.rules.next_status`), the case's
fields that go with it, one audit line, the SLA clocks told, the action's event; a cancel releases
the rooms held for the case's meetings, whoever cancels. Never commits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.consulting.handlers import sla
from services.consulting.handlers.common import case_payload, record
from services.consulting.handlers.meetings import release_case_meetings
from services.consulting.models import Case
from services.consulting.permissions import sees_tenant_names
from services.consulting.rules import EVENT_OF_ACTION, next_status
from shared.db import UnitOfWork
from shared.principal import Principal

FIRM_CHANGES = frozenset({"assign", "decline"})
"""Actions whose event names the firm that held the case before (``previous_firm_org_id``)."""


def publish_case(
    uow: UnitOfWork,
    case: Case,
    event: str,
    *,
    previous_status: str | None,
    at: datetime,
    reason: str | None,
    **extra: Any,
) -> str:
    """Put ``event`` (a ``consulting.case.*`` type) for ``case`` as it is now in the outbox."""
    data = {**case_payload(case, previous_status=previous_status, at=at, reason=reason), **extra}
    return uow.publish(event, data, subject=f"cases/{case.id}", orgid=case.org_id)


def transition(
    uow: UnitOfWork,
    case: Case,
    action: str,
    *,
    actor: Principal,
    at: datetime,
    reason: str | None = None,
    changes: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    automatic: bool = False,
) -> None:
    """Take ``case`` through ``action`` at ``at``: 409 ``rule/state-transition`` (in the actor's
    names of the states) when its state does not allow it; else set the new state, ``reason``
    (kept on the case as the last change's reason) and ``changes`` (the action's own fields),
    flush (the version moves), write the audit line (``details``), move the SLA clocks
    (``sla.on_transition``) and publish ``rules.EVENT_OF_ACTION[action]`` (``closed`` says whether
    it was ``automatic``; ``declined`` and ``assigned`` name the firm that held the case before,
    ``previous_firm_org_id``, null when none did). A ``cancel`` releases the rooms held for the
    case's meetings (:func:`..meetings.release_case_meetings`), whoever cancels: a caller, or the
    system when every appraisal firm declined a valuation case."""
    from_status, from_firm = case.status, case.firm_org_id
    case.status = next_status(from_status, action, for_tenant=sees_tenant_names(actor))
    for name, value in (changes or {}).items():
        setattr(case, name, value)
    if reason:
        case.reason = reason
    case.updated_at = at
    uow.session.flush()
    record(uow, case, action, from_status=from_status, actor=actor, at=at, reason=reason, **dict(details or {}))
    uow.session.flush()
    sla.on_transition(uow, case, action, from_status, at)
    event = EVENT_OF_ACTION[action]
    if event is not None:
        extra: dict[str, Any] = {"automatic": automatic} if event == "consulting.case.closed" else {}
        if action in FIRM_CHANGES:
            extra["previous_firm_org_id"] = from_firm
        publish_case(uow, case, event, previous_status=from_status, at=at, reason=reason, **extra)
    if action == "cancel":
        release_case_meetings(uow, case, now=at)
    if case.origin == "finance":  # a valuation case: finance hears of its outcome
        from services.consulting.handlers.valuations import after_transition

        after_transition(uow, case, action, at=at)
