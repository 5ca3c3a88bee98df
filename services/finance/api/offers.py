"""Offers and approvals, compared by their all-in annual cost, accepted or declined. (Being built: issue 9.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "finance-offers",
    "parkhub.finance.offers",
    description="Offers and approvals, compared by their all-in annual cost, accepted or declined.",
)
