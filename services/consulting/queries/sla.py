"""The SLA clocks of a case as its readers see them. (Being built: issue 8, the SLA helper owns
this module.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from services.consulting.models import Case
from shared.principal import Principal


def sla_view(session: Session, case: Case, now: datetime, actor: Principal) -> list[dict[str, Any]]:
    """One entry per clock and target of ``case`` that ``actor`` may see (a tenant: the tenant's
    clock only): target, used and remaining business minutes, due time, state (running, paused,
    met, warned, breached, stopped)."""
    return []
