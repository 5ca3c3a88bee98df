"""What finance's handlers share on the session's side: loading an application the actor may see,
the audit trail, the body of a ``finance.application.*`` event. Nothing here commits; the
decisions are in :mod:`..rules`."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.finance.models import Application, ApplicationTransition, Decision
from services.finance.permissions import can_see
from services.finance.rules.decisions import decide, snapshot
from shared.clock import as_utc
from shared.db import UnitOfWork
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal

SYSTEM = Principal(subject="system:finance", org_id="", org_kind="operator", roles=frozenset(), name="ParkHub finance")
"""Who acts for the worker's jobs (offers expiring)."""


def new_id() -> str:
    return str(uuid.uuid4())


def utc_text(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as finance's events carry times."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def money_text(amount: Decimal) -> str:
    """An amount of yuan as the events and the API write it: a decimal string with two places."""
    return f"{amount:.2f}"


def load_application(
    uow: UnitOfWork, actor: Principal, application_id: str, *, for_update: bool = False
) -> Application:
    """The application if ``actor`` may see it (the ``read`` right); anyone else is told there is
    none (404), so ids do not leak. ``for_update`` locks the row (PostgreSQL) for a change."""
    application = uow.session.get(Application, application_id, with_for_update=for_update or None)
    if application is None or not can_see(actor, application):
        raise NotFound(_("There is no application {id}.", id=application_id), code="not-found")
    return application


def record(
    uow: UnitOfWork,
    application: Application,
    action: str,
    *,
    subject: str = "application",
    from_status: str | None,
    to_status: str | None = None,
    actor: Principal,
    at: datetime,
    partner_org_id: str | None = None,
    reason: str | None = None,
    **details: Any,
) -> ApplicationTransition:
    """Write one line of the audit trail: ``action`` moved ``subject`` (the application, a review
    or an offer) from ``from_status`` to ``to_status`` (the application's status by default)."""
    line = ApplicationTransition(
        application_id=application.id,
        subject=subject,
        action=action,
        from_status=from_status,
        to_status=to_status if to_status is not None else application.status,
        partner_org_id=partner_org_id,
        actor=actor.subject,
        actor_name=actor.name or None,
        reason=reason,
        details=details,
        at=at,
    )
    uow.session.add(line)
    return line


def application_payload(
    application: Application,
    *,
    previous_status: str | None,
    at: datetime,
    partner_org_id: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The body of a ``finance.application.*`` event (:class:`shared.events.finance.ApplicationV1`),
    built from the application as it is after the change; call it after the flush that bumps
    ``version``. Events with more (an offer, a tranche) add their members to it."""
    return {
        "application_id": application.id,
        "status": application.status,
        "previous_status": previous_status,
        "org_id": application.org_id,
        "applicant": application.applicant,
        "product_id": application.product_id,
        "product_kind": application.product_kind,
        "amount": money_text(application.amount),
        "currency": application.currency,
        "term_months": application.term_months,
        "partner_org_ids": list(application.partner_org_ids),
        "partner_org_id": partner_org_id,
        "submitted_at": utc_text(application.submitted_at) if application.submitted_at else None,
        "changed_at": utc_text(at),
        "reason": reason,
        "version": application.version,
    }


def record_decision(
    uow: UnitOfWork, application: Application, kind: str, *, actor: Principal, at: datetime, basis: dict[str, Any]
) -> Decision:
    """Keep an immutable record of a decision (rules/decisions.py: ``kind`` of
    ``DECISION_KINDS``) with a snapshot of what was decided on and its digest. Never updated."""
    record = snapshot(decide(kind, application_id=application.id, decided_by=actor.subject, decided_at=at, basis=basis))
    decision = Decision(
        id=new_id(),
        application_id=application.id,
        kind=kind,
        basis=record,
        digest=record["digest"],
        decided_by=actor.subject,
        decided_by_name=actor.name or None,
        decided_at=at,
    )
    uow.session.add(decision)
    return decision
