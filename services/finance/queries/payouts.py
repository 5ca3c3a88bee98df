"""What readers get of an application's payouts: the accepted amount, the contract, the tranches
(pending and approved), what is paid and what remains. Pure reads, no commits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.finance.models import Application, Disbursement, Offer
from services.finance.permissions import can_see
from services.finance.queries.views import status_label
from services.finance.rules.money import format_amount
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal

PENDING, APPROVED = "pending", "approved"
DISBURSEMENT_STATUSES = (PENDING, APPROVED)


def get_payouts(session: Session, actor: Principal, application_id: str) -> dict[str, Any]:
    """:func:`payouts_view` of an application ``actor`` may read (anyone else: 404, ids do not
    leak). The payouts show the accepted offer's amount: to a partner whose offer was not the one
    accepted, a 404 too (``read_offer`` is a hidden right: never another partner's offer)."""
    application = session.get(Application, application_id)
    if application is None or not can_see(actor, application) or not _sees_accepted_offer(actor, application):
        raise NotFound(_("There is no application {id}.", id=application_id), code="not-found")
    return payouts_view(session, application, actor)


def _sees_accepted_offer(actor: Principal, application: Application) -> bool:
    """Whether ``actor`` may read the accepted offer's amount: a partner only the accepted one."""
    return not actor.is_partner or actor.org_id == application.accepted_partner_org_id


def accepted_amount(session: Session, application: Application) -> Decimal:
    """The amount the tranches pay in full: the accepted offer's (a bureau's approval for a
    subsidy); the amount asked for when no accepted offer is on file."""
    if application.accepted_offer_id:
        offer = session.get(Offer, application.accepted_offer_id)
        if offer is not None:
            return offer.amount
    return application.amount


def tranches(session: Session, application_id: str) -> list[Disbursement]:
    """The application's tranches in the order they were recorded."""
    query = select(Disbursement).where(Disbursement.application_id == application_id).order_by(Disbursement.number)
    return list(session.execute(query).scalars())


def disbursement_view(tranche: Disbursement, application: Application) -> dict[str, Any]:
    """One tranche as the API answers it (money as decimal strings)."""
    return {
        "id": tranche.id,
        "application_id": tranche.application_id,
        "application_status": application.status,
        "number": tranche.number,
        "amount": format_amount(tranche.amount),
        "currency": tranche.currency,
        "disbursed_on": tranche.disbursed_on,
        "reference": tranche.reference,
        "status": tranche.status,
        "recorded_by": tranche.recorded_by,
        "recorded_by_name": tranche.recorded_by_name,
        "recorded_at": tranche.recorded_at,
        "approved_by": tranche.approved_by,
        "approved_by_name": tranche.approved_by_name,
        "approved_at": tranche.approved_at,
        "version": tranche.version,
    }


def payouts_view(session: Session, application: Application, actor: Principal) -> dict[str, Any]:
    """The application's payouts, its status named as ``actor`` reads it (a tenant the tenant's
    name): ``accepted_amount``, ``disbursed_total`` (approved tranches
    only: a pending one has not counted yet), ``pending_total``, ``remaining``, the contract, the
    pledge's release and ``items`` (every tranche). ``version`` is the application's (its ETag)."""
    items = tranches(session, application.id)
    accepted = accepted_amount(session, application)
    paid = sum((t.amount for t in items if t.status == APPROVED), Decimal("0"))
    pending = sum((t.amount for t in items if t.status == PENDING), Decimal("0"))
    return {
        "application_id": application.id,
        "status": application.status,
        "status_label": status_label(application.status, actor),
        "product_kind": application.product_kind,
        "currency": application.currency,
        "accepted_amount": format_amount(accepted),
        "disbursed_total": format_amount(paid),
        "pending_total": format_amount(pending),
        "remaining": format_amount(accepted - paid),
        "contract_number": application.contract_number,
        "contract_signed_on": application.contract_signed_on,
        "pledge_number": application.pledge_number,
        "pledge_released_on": application.pledge_released_on,
        "closed_at": application.closed_at,
        "items": [disbursement_view(t, application) for t in items],
        "version": application.version,
    }
