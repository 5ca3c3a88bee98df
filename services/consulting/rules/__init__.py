"""Consulting's pure rules: no Flask, kombu or session. Every broken rule raises
:class:`shared.errors.RuleViolation` (or :class:`shared.errors.Conflict`) whose ``code`` names it
and whose detail is a marked text (:mod:`shared.i18n`), answered in the reader's language.
Importing the package registers the labels of consulting's codes (:mod:`.names`)."""

from services.consulting.rules import names
from services.consulting.rules.business_time import (
    BusinessCalendar,
    Period,
    add_business_minutes,
    business_calendar,
    business_minutes_between,
    minutes_for_share,
    share_reached,
    share_used,
)
from services.consulting.rules.lifecycle import (
    ACTIONS,
    AUTO_CLOSE_DAYS,
    CALLER_ACTIONS,
    CLOCKS_PAUSED,
    EVENT_OF_ACTION,
    OPEN,
    QUOTABLE,
    STATUSES,
    TRANSITIONS,
    allowed_from,
    auto_close_due,
    check_fee,
    check_quotable,
    check_rating,
    check_reason,
    check_start,
    next_quote_status,
    next_status,
)

__all__ = [
    "ACTIONS",
    "AUTO_CLOSE_DAYS",
    "CALLER_ACTIONS",
    "CLOCKS_PAUSED",
    "EVENT_OF_ACTION",
    "OPEN",
    "QUOTABLE",
    "STATUSES",
    "TRANSITIONS",
    "BusinessCalendar",
    "Period",
    "add_business_minutes",
    "allowed_from",
    "auto_close_due",
    "business_calendar",
    "business_minutes_between",
    "check_fee",
    "check_quotable",
    "check_rating",
    "check_reason",
    "check_start",
    "minutes_for_share",
    "names",
    "next_quote_status",
    "next_status",
    "share_reached",
    "share_used",
]
