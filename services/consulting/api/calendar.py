"""The business calendar of the SLA clocks. (Being built: issue 8.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "consulting-calendar", "parkhub.consulting.calendar", description="The business calendar of the SLA clocks."
)
