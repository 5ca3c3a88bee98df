"""The SLA clocks of a case as its readers see them. (Being built: issue 8, the SLA helper owns
this module.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.consulting.models import Case


def sla_view(session: Session, case: Case, now: datetime) -> list[dict[str, Any]]:
    """One entry per clock and target of ``case``: target, used and remaining business minutes,
    due time, state (running, paused, met, warned, breached, stopped)."""
    return []
