"""(Being built: issue 8.)"""

from __future__ import annotations

from datetime import datetime

from shared.db import UnitOfWork


def close_unanswered(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """Close cases whose solution went unanswered for AUTO_CLOSE_DAYS."""
    return 0
