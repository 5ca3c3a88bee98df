"""(Being built: issue 8.)"""

from __future__ import annotations

from datetime import datetime

from shared.db import UnitOfWork


def route_triaged(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """Route triaged cases of categories with a routing rule to a firm."""
    return 0
