"""Financing products, their providers and the tenants' company profiles. (Being built: issue 9.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "finance-products",
    "parkhub.finance.products",
    description="Financing products, their providers and the tenants' company profiles.",
)
