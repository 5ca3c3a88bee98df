"""The free hours of the month: what an organisation has left, and which reservations count.

An organisation's usage is kept as a counter per (organisation, space kind, park month) that
every booking change moves in its own transaction (see :mod:`services.booking.handlers.quota`);
these are the decisions on top of it.
"""

from __future__ import annotations

from datetime import datetime

from services.booking.rules.lifecycle import COUNTED_FOR_QUOTA
from shared.clock import PARK_TZ


def counts_for_quota(status: str) -> bool:
    """Whether a reservation in ``status`` spends its organisation's free hours."""
    return status in COUNTED_FOR_QUOTA


def quota_month(start: datetime) -> str:
    """The park month a reservation starting at ``start`` counts in, as ``YYYY-MM``."""
    return start.astimezone(PARK_TZ).strftime("%Y-%m")


def free_minutes_left(free_hours_per_month: int, used_minutes: int) -> int:
    """Minutes of the month's allowance not yet spent (never below zero)."""
    return max(0, free_hours_per_month * 60 - used_minutes)
