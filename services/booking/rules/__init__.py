"""Booking's pure rules: no Flask, kombu or session. Every broken rule raises
:class:`shared.errors.RuleViolation` (or :class:`shared.errors.Conflict`) whose ``code`` names it."""

from services.booking.rules.intervals import (
    Interval,
    OpeningHours,
    merge,
    month_of,
    opening_intervals,
    parse_opening_hours,
    render_opening_hours,
    subtract,
)
from services.booking.rules.lifecycle import (
    ACTIONS,
    COUNTED_FOR_QUOTA,
    HOLDING,
    STATUSES,
    next_status,
)
from services.booking.rules.policy import (
    MAX_HOLD,
    Pricing,
    SpacePolicy,
    cancellation_fee,
    check_check_in_window,
    check_request,
    free_intervals,
    needs_approval,
    price_of,
)
from services.booking.rules.recurrence import Occurrence, occurrences

__all__ = [
    "ACTIONS",
    "COUNTED_FOR_QUOTA",
    "HOLDING",
    "MAX_HOLD",
    "STATUSES",
    "Interval",
    "Occurrence",
    "OpeningHours",
    "Pricing",
    "SpacePolicy",
    "cancellation_fee",
    "check_check_in_window",
    "check_request",
    "free_intervals",
    "merge",
    "month_of",
    "needs_approval",
    "next_status",
    "occurrences",
    "opening_intervals",
    "parse_opening_hours",
    "price_of",
    "render_opening_hours",
    "subtract",
]
