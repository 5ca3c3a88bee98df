"""(Being built: issue 9.)"""

from __future__ import annotations

from datetime import datetime

from shared.db import UnitOfWork


def expire_offers(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """Offers past their expiry that nobody answered become ``expired``; returns how many."""
    return 0
