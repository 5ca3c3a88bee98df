"""One step of an application's lifecycle, whoever takes it (the tenant, the desk, a partner, the
worker): the state checked and moved by the right table (a subsidy's or the others',
:func:`services.finance.rules.lifecycle.next_status`), the application's fields that go with it,
one audit line, the action's event. Never commits.

Callers (applications, reviews/offers, payouts) use :func:`transition`; :func:`publish_application`
puts any ``finance.application.*`` event for the application as it is now in the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.finance.handlers.common import application_payload, record
from services.finance.models import Application
from services.finance.permissions import sees_tenant_names
from services.finance.rules.lifecycle import EVENT_OF_ACTION, SUBSIDY, next_status
from shared.db import UnitOfWork
from shared.principal import Principal

ENDS = frozenset({"closed", "withdrawn"})
"""States that end an application: entering one stamps ``closed_at``."""


def is_subsidy(application: Application) -> bool:
    """Whether ``application`` moves by the subsidy's table (a bureau approves, no contract)."""
    return application.product_kind == SUBSIDY


def publish_application(
    uow: UnitOfWork,
    application: Application,
    event: str,
    *,
    previous_status: str | None,
    at: datetime,
    partner_org_id: str | None = None,
    reason: str | None = None,
    **extra: Any,
) -> str:
    """Put ``event`` (a ``finance.application.*`` type) for ``application`` as it is now in the
    outbox: :func:`~services.finance.handlers.common.application_payload` plus ``extra`` (the
    event's own members: ``added_partner_org_ids``, ``offer``, ...). Call after the flush that
    moves ``version``. Returns the event's id."""
    data = {
        **application_payload(
            application, previous_status=previous_status, at=at, partner_org_id=partner_org_id, reason=reason
        ),
        **extra,
    }
    return uow.publish(event, data, subject=f"applications/{application.id}", orgid=application.org_id)


def transition(
    uow: UnitOfWork,
    application: Application,
    action: str,
    *,
    actor: Principal,
    at: datetime,
    reason: str | None = None,
    partner_org_id: str | None = None,
    changes: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    event_extra: Mapping[str, Any] | None = None,
    publish: bool = True,
) -> str:
    """Take ``application`` through ``action`` (of ``rules.lifecycle.ACTIONS``) at ``at``.

    - 409 ``rule/state-transition`` (the states in the actor's names: the tenant's for a tenant)
      when its state does not allow it, 409 ``rule/not-for-product-kind`` for an action of the
      other family (approving a loan, accepting an offer on a subsidy); nothing changed then.
    - Else: the new state; ``changes`` (the action's own fields, set as attributes); ``reason``
      kept on the application (the last change's reason); ``closed_at`` stamped on entering
      ``closed`` or ``withdrawn``; ``updated_at``; flush (``version`` moves).
    - One audit line (``record``: subject ``application``, ``partner_org_id``, ``reason``,
      ``details`` as its details).
    - The event ``rules.lifecycle.EVENT_OF_ACTION[action]`` (none for edit, start_pre_review,
      complete_disbursement) with ``partner_org_id``, ``reason`` and ``event_extra`` as members,
      unless ``publish`` is False (the caller publishes a richer one itself with
      :func:`publish_application`).

    Returns the status the application was in before (for the caller's own lines and events).
    Rights are the caller's: check ``RIGHTS.require`` first."""
    from_status = application.status
    application.status = next_status(
        from_status, action, subsidy=is_subsidy(application), for_tenant=sees_tenant_names(actor)
    )
    for name, value in (changes or {}).items():
        setattr(application, name, value)
    if reason:
        application.reason = reason
    if application.status in ENDS and from_status not in ENDS:
        application.closed_at = at
    application.updated_at = at
    uow.session.flush()
    record(
        uow,
        application,
        action,
        from_status=from_status,
        actor=actor,
        at=at,
        partner_org_id=partner_org_id,
        reason=reason,
        **dict(details or {}),
    )
    uow.session.flush()
    event = EVENT_OF_ACTION[action]
    if publish and event is not None:
        publish_application(
            uow,
            application,
            event,
            previous_status=from_status,
            at=at,
            partner_org_id=partner_org_id,
            reason=reason,
            **dict(event_extra or {}),
        )
    return from_status
