"""Contracts, disbursements (maker-checker) and closing. (Being built: issue 9.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "finance-payouts", "parkhub.finance.payouts", description="Contracts, disbursements (maker-checker) and closing."
)
