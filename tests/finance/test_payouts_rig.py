"""Accepted applications written straight into the tables (the accept path is another helper's),
for the payouts' and the pipeline report's tests. A rig: it holds no tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

from services.finance.models import Application, Offer, Review
from shared.db import Database
from tests.booking.conftest import BANK, ORG_A
from tests.finance.conftest import BANK2, BUREAU, Products

_NUMBERS = count(1)
KINDS = {Products.loan: "guaranteed_loan", Products.subsidy: "subsidy", Products.ip_loan: "ip_pledge_loan"}


def accepted_application(
    db: Database,
    *,
    product: str = Products.loan,
    amount: str = "500000.00",
    accepted: str | None = None,
    status: str = "accepted",
    org_id: str = ORG_A,
    submitted_at: datetime | None = None,
    offered_after: timedelta = timedelta(days=3),
    pledge_number: str | None = None,
) -> str:
    """An application of ``product`` in ``status`` whose accepted offer (a bureau's approval for
    the subsidy) pays ``accepted`` (``amount`` by default); for the loan, BANK's offer is accepted
    and BANK2 declined; the subsidy is BUREAU's, the IP loan BANK's. Returns its id."""
    subsidy = product == Products.subsidy
    partner = BUREAU if subsidy else BANK
    submitted = submitted_at or datetime.now(UTC) - timedelta(days=10)
    app_id, review_id, offer_id = (str(uuid.uuid4()) for _ in range(3))
    with db.unit_of_work() as uow:
        s = uow.session
        s.add(
            Application(
                id=app_id,
                number=f"F-2026-9{next(_NUMBERS):04d}",
                org_id=org_id,
                applicant="user:alice",
                applicant_name="Alice Wang",
                product_id=product,
                product_kind=KINDS[product],
                status=status,
                amount=Decimal(amount),
                currency="CNY",
                term_months=12,
                accepted_offer_id=offer_id,
                accepted_partner_org_id=partner,
                pledge_number=pledge_number,
                submitted_at=submitted,
                created_at=submitted,
                updated_at=submitted,
            )
        )
        s.flush()
        made = submitted + offered_after
        s.add(
            Review(
                id=review_id,
                application_id=app_id,
                partner_org_id=partner,
                status="approved" if subsidy else "offer_made",
                routed_by="user:desk",
                routed_at=submitted,
                updated_at=made,
            )
        )
        if product == Products.loan:
            s.add(
                Review(
                    id=str(uuid.uuid4()),
                    application_id=app_id,
                    partner_org_id=BANK2,
                    status="declined",
                    decline_reason="credit_history",
                    routed_by="user:desk",
                    routed_at=submitted + timedelta(seconds=1),
                    updated_at=made,
                )
            )
        s.flush()
        s.add(
            Offer(
                id=offer_id,
                application_id=app_id,
                review_id=review_id,
                partner_org_id=partner,
                kind="approval" if subsidy else "offer",
                status="accepted",
                amount=Decimal(accepted or amount),
                currency="CNY",
                annual_rate=None if subsidy else Decimal("4.2"),
                term_months=None if subsidy else 12,
                fees=[],
                made_by="user:bureau" if subsidy else "user:bank",
                made_at=made,
            )
        )
        uow.commit()
    return app_id
