"""The financing rounds a roadshow may present (:mod:`services.booking.handlers.rounds` keeps them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.booking.models import FinancingRound, directory
from services.booking.queries.views import money
from shared.principal import Principal


def list_rounds(session: Session, actor: Principal, args: dict[str, Any]) -> dict[str, Any]:
    """A tenant's own organisation's rounds; staff every organisation's (``organisation_id``
    narrows them). A tenant naming another organisation gets none: it is their own or nothing.
    Newest acceptance first; withdrawn ones are listed with ``usable`` false."""
    query = select(FinancingRound)
    if not actor.is_staff:
        query = query.where(FinancingRound.org_id == actor.org_id)
    if args.get("organisation_id"):
        query = query.where(FinancingRound.org_id == args["organisation_id"])
    if args.get("usable"):
        query = query.where(FinancingRound.withdrawn_at.is_(None))
    rows = list(
        session.execute(
            query.order_by(FinancingRound.accepted_at.desc(), FinancingRound.application_id).limit(500)
        ).scalars()
    )
    ids = {r.org_id for r in rows} | {r.partner_org_id for r in rows if r.partner_org_id}
    names: dict[str, str] = {}
    if ids:
        found = session.execute(select(directory.c.id, directory.c.name).where(directory.c.id.in_(ids)))
        names = {row.id: row.name for row in found}
    return {
        "items": [
            {
                "application_id": r.application_id,
                "organisation": {"id": r.org_id, "name": names.get(r.org_id)},
                "product_kind": r.product_kind,
                "partner": (
                    {"id": r.partner_org_id, "name": names.get(r.partner_org_id)} if r.partner_org_id else None
                ),
                "amount": money(r.amount, r.currency),
                "accepted_at": r.accepted_at,
                "withdrawn_at": r.withdrawn_at,
                "usable": r.withdrawn_at is None,
            }
            for r in rows
        ]
    }
