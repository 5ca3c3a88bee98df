"""(Being built: issue 8.)"""

from __future__ import annotations

from datetime import datetime

from shared.db import UnitOfWork


def keep_official_years(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """Load the official holidays of the years the source covers that the calendar lacks."""
    return 0
