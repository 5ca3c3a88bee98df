"""Booking's pure rules: no Flask, kombu or session. Every broken rule raises
:class:`shared.errors.RuleViolation` (or :class:`shared.errors.Conflict`) whose ``code`` names it
and whose detail is a marked text (:mod:`shared.i18n`), answered in the reader's language.
Importing the package registers the labels of booking's codes (:mod:`.names`)."""

from services.booking.rules import names
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
    CALLER_ACTIONS,
    COUNTED_FOR_QUOTA,
    EXPIRED_REASON,
    HOLDING,
    KINDS,
    NO_SHOW_REASON,
    STATUSES,
    check_caller_action,
    check_transition,
    next_status,
    reason_text,
)
from services.booking.rules.policy import (
    MAX_HOLD,
    Pricing,
    SpacePolicy,
    cancellation_fee,
    check_check_in_window,
    check_request,
    double_booking,
    free_intervals,
    needs_approval,
    price_of,
)
from services.booking.rules.quota import counts_for_quota, free_minutes_left, quota_month
from services.booking.rules.recurrence import Occurrence, occurrences

__all__ = [
    "ACTIONS",
    "CALLER_ACTIONS",
    "COUNTED_FOR_QUOTA",
    "EXPIRED_REASON",
    "HOLDING",
    "KINDS",
    "MAX_HOLD",
    "NO_SHOW_REASON",
    "STATUSES",
    "Interval",
    "Occurrence",
    "OpeningHours",
    "Pricing",
    "SpacePolicy",
    "cancellation_fee",
    "check_caller_action",
    "check_check_in_window",
    "check_request",
    "check_transition",
    "counts_for_quota",
    "double_booking",
    "free_intervals",
    "free_minutes_left",
    "merge",
    "month_of",
    "names",
    "needs_approval",
    "next_status",
    "occurrences",
    "opening_intervals",
    "parse_opening_hours",
    "price_of",
    "quota_month",
    "reason_text",
    "render_opening_hours",
    "subtract",
]
