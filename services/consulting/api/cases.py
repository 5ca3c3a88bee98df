"""Cases: submission, the lifecycle's actions, history and rating. (Being built: issue 8.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "consulting-cases",
    "parkhub.consulting.cases",
    description="Cases: submission, the lifecycle's actions, history and rating.",
)
