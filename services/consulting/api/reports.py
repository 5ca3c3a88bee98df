"""SLA attainment, backlog, times and ratings. (Being built: issue 8.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "consulting-reports", "parkhub.consulting.reports", description="SLA attainment, backlog, times and ratings."
)
