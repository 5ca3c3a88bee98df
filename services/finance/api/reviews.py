"""Each partner's review: information requests and answers, declines. (Being built: issue 9.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "finance-reviews",
    "parkhub.finance.reviews",
    description="Each partner's review: information requests and answers, declines.",
)
