"""Tenants' financing rounds, as finance announces them: what entitles a tenant to book a
financing roadshow (:mod:`services.booking.rules.purposes`).

- ``finance.application.offer_accepted`` of a venture-capital or guide-fund application is one
  :class:`~services.booking.models.FinancingRound` (the accepted offer's amount and partner, the
  time it was accepted); other kinds (loans, leases, subsidies) are ignored. Delivered twice
  (or as two events), it is one row: the application is the key.
- ``finance.application.withdrawn`` and ``finance.application.closed`` without a payout (turned
  down by the desk) mark a round withdrawn (``withdrawn_at``): no new roadshow may present it.
  By finance's own rules neither can follow an acceptance (a tenant withdraws, and the desk turns
  down, only before an offer is accepted; an accepted application closes only once paid out), so
  a round, once accepted, stays valid; the handling is there so that booking never trusts a round
  finance says was given up. A closed application that was paid out keeps its round: the money
  came. Reservations already made for a round that is later withdrawn are kept (the desk decides).

Consumers take the inbox's unit of work and never commit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from services.booking.models import FinancingRound
from services.booking.rules.purposes import is_financing_round
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.events import Event


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def record_round(event: Event, *, uow: UnitOfWork) -> None:
    """A venture-capital or guide-fund offer accepted: the tenant's financing round (once)."""
    data = event.data
    if not is_financing_round(str(data.get("product_kind"))):
        return
    application_id = str(data["application_id"])
    if uow.session.get(FinancingRound, application_id) is not None:
        return  # announced already
    offer = data.get("offer") or {}
    uow.session.add(
        FinancingRound(
            application_id=application_id,
            org_id=data["org_id"],
            product_kind=data["product_kind"],
            partner_org_id=offer.get("partner_org_id") or data.get("partner_org_id"),
            amount=Decimal(str(offer.get("amount") or data["amount"])),
            currency=offer.get("currency") or data.get("currency") or "CNY",
            accepted_at=_moment(data.get("changed_at")) or event.time,
        )
    )
    uow.session.flush()


def withdraw_round(event: Event, *, uow: UnitOfWork) -> None:
    """An application withdrawn, or closed without a payout: its round (if any) no longer stands.
    A paid-out application's closing keeps it; a round withdrawn already keeps its first time."""
    data = event.data
    if event.type.endswith(".closed") and data.get("previous_status") in ("disbursed", "disbursing"):
        return  # paid out: the round happened
    found = uow.session.get(FinancingRound, str(data["application_id"]))
    if found is None or found.withdrawn_at is not None:
        return
    found.withdrawn_at = _moment(data.get("changed_at")) or utcnow()
    uow.session.flush()


def round_stands(uow: UnitOfWork, org_id: str, application_id: str) -> bool:
    """Whether ``application_id`` is a financing round of ``org_id`` that was not withdrawn."""
    if len(application_id) > 36:  # longer than any application id (the column's width)
        return False
    found = uow.session.execute(
        select(FinancingRound.application_id).where(
            FinancingRound.application_id == application_id,
            FinancingRound.org_id == org_id,
            FinancingRound.withdrawn_at.is_(None),
        )
    ).first()
    return found is not None
