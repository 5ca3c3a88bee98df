"""Offers as a reader sees them, and the comparison a tenant reads.

The comparison (``GET /applications/{id}/offers``) sets the offers side by side: amount, nominal
rate, term, repayment method, fees, the all-in annual cost (IRR, rules/cost.py, stored when the
offer was made), the effective annual rate, total interest, total fees and total cost, the
monthly payment (the first month's; for equal principal the highest, for interest-only the
interest, for a bullet loan only the monthly fees: ``schedule`` is the cost's own), the expiry,
the status and the partner. Sorted by the all-in cost, cheapest first (approvals, which have
none, after the offers; ties by total cost, then by when they were made); ``rank`` numbers the
offers still open in that order. A partner reads only its own offers, never another's; the
tenant and the staff read them all. ``open`` says whether it can still be accepted now (made and
not past its expiry: the expiry job may not have run yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.finance.models import Application, Offer, directory
from services.finance.permissions import RIGHTS, sees_offer
from services.finance.queries.applications import visible_application
from services.finance.queries.views import sees_partner
from services.finance.rules.cost import AllInCost, all_in_cost, offer
from services.finance.rules.lifecycle import offer_expired
from services.finance.rules.names import reason_shown
from shared.clock import utcnow
from shared.directory import organisation_refs
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal

API = "/api/v1/finance"


@dataclass(frozen=True)
class OfferSubject:
    """What the rights' offer rows read of an offer: the tenant's organisation (the
    application's) and the partner that made it."""

    org_id: str
    partner_org_id: str


def offer_subject(row: Offer, application: Application) -> OfferSubject:
    return OfferSubject(application.org_id, row.partner_org_id)


def offer_url(offer_id: str) -> str:
    """Where one offer is read (``Location`` of the 201 that made it)."""
    return f"{API}/offers/{offer_id}"


def cost_of(row: Offer) -> AllInCost | None:
    """The all-in cost of an offer's terms (None for an approval, which has no rate or term)."""
    if row.kind != "offer" or row.annual_rate is None or row.term_months is None or row.repayment_method is None:
        return None
    return all_in_cost(offer(row.amount, row.term_months, row.annual_rate, row.repayment_method, row.fees))


def is_open(row: Offer, now: datetime) -> bool:
    """Whether the offer can still be accepted at ``now``: made, and not past its expiry."""
    return row.status == "made" and not (row.expires_at is not None and offer_expired(row.expires_at, now))


def offer_actions(actor: Principal, row: Offer, application: Application, now: datetime) -> list[str]:
    """The answers ``actor`` may give the offer now: accept and decline an open offer (a tenant
    admin of the applying organisation), withdraw one still made (its partner)."""
    subject = offer_subject(row, application)
    actions = []
    if is_open(row, now) and application.status == "routed":
        actions += [
            a
            for a, right in (("accept", "accept_offer"), ("decline", "decline_offer"))
            if RIGHTS.allows(actor, right, subject)
        ]
    if row.status == "made" and RIGHTS.allows(actor, "withdraw_offer", subject):
        actions.append("withdraw")
    return actions


def offer_view(
    row: Offer, partners: dict[str, dict[str, Any]], now: datetime, actions: list[str] | None = None
) -> dict[str, Any]:
    """One offer as the API answers it (``partners``: refs by id; ``actions``: :func:`offer_actions`
    for the reader); its cost from its terms."""
    cost = cost_of(row)
    first = cost.schedule[0] if cost and cost.schedule else None
    return {
        "id": row.id,
        "application_id": row.application_id,
        "kind": row.kind,
        "status": row.status,
        "open": is_open(row, now),
        "partner_org_id": row.partner_org_id,
        "partner": partners.get(row.partner_org_id) or {"id": row.partner_org_id},
        "amount": row.amount,
        "currency": row.currency,
        "annual_rate": row.annual_rate,
        "term_months": row.term_months,
        "repayment_method": row.repayment_method,
        "fees": list(row.fees or []),
        "conditions": row.conditions,
        "all_in_rate": row.all_in_rate,
        "effective_annual_rate": cost.effective_annual_rate if cost else None,
        "total_interest": cost.total_interest if cost else None,
        "total_fees": cost.total_fees if cost else None,
        "total_cost": cost.total_cost if cost else None,
        "received": cost.received if cost else None,
        "monthly_payment": first.payment if first else None,
        "expires_at": row.expires_at,
        "made_by": row.made_by,
        "made_by_name": row.made_by_name,
        "made_at": row.made_at,
        "answered_by": row.answered_by,
        "answered_at": row.answered_at,
        "reason": reason_shown(row.reason),
        "rank": None,
        "actions": actions or [],
        "version": row.version,
    }


def offer_answer(session: Session, actor: Principal, row: Offer, application: Application) -> dict[str, Any]:
    """One offer as the API answers it to ``actor``, its partner looked up."""
    now = utcnow()
    partners = organisation_refs(session, directory, [row.partner_org_id])
    return offer_view(row, partners, now, offer_actions(actor, row, application, now))


_LAST = Decimal("Infinity")


def _order(view: dict[str, Any]) -> tuple[Decimal, Decimal, datetime, str]:
    return (
        view["all_in_rate"] if view["all_in_rate"] is not None else _LAST,
        view["total_cost"] if view["total_cost"] is not None else _LAST,
        view["made_at"],
        view["id"],
    )


def comparison(session: Session, actor: Principal, application_id: str, status: str | None = None) -> dict[str, Any]:
    """The offers of an application ``actor`` may see (404 otherwise), side by side, cheapest
    all-in first (module docstring); ``status`` narrows them."""
    application = visible_application(session, actor, application_id)
    query = select(Offer).where(Offer.application_id == application.id)
    if status is not None:
        query = query.where(Offer.status == status)
    rows = [r for r in session.scalars(query) if sees_offer(actor, offer_subject(r, application))]
    partners = organisation_refs(session, directory, [r.partner_org_id for r in rows])
    now = utcnow()
    views = sorted((offer_view(r, partners, now, offer_actions(actor, r, application, now)) for r in rows), key=_order)
    rank = 0
    for view in views:
        if view["open"]:
            rank += 1
            view["rank"] = rank
    # A partner whose offer lost reads that one was accepted (its own is withdrawn), not which.
    accepted = application.accepted_offer_id if sees_partner(actor, application.accepted_partner_org_id) else None
    return {"application_id": application.id, "accepted_offer_id": accepted, "items": views}


def one_offer(session: Session, actor: Principal, offer_id: str) -> dict[str, Any]:
    """Offer ``offer_id`` for who may read it (the tenant, the partner that made it, staff);
    anyone else, another partner included, is told there is none (404)."""
    row = session.get(Offer, offer_id)
    application = session.get(Application, row.application_id) if row is not None else None
    if row is None or application is None or not sees_offer(actor, offer_subject(row, application)):
        raise NotFound(_("There is no offer {id}.", id=offer_id), code="not-found")
    return offer_answer(session, actor, row, application)
