"""The pipeline per product and partner. (Being built: issue 9.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint("finance-reports", "parkhub.finance.reports", description="The pipeline per product and partner.")
