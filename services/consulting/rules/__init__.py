"""Consulting's pure rules: no Flask, kombu or session. Every broken rule raises
:class:`shared.errors.RuleViolation` (or :class:`shared.errors.Conflict`) whose ``code`` names it
and whose detail is a marked text (:mod:`shared.i18n`), answered in the reader's language."""

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

__all__ = [
    "BusinessCalendar",
    "Period",
    "add_business_minutes",
    "business_calendar",
    "business_minutes_between",
    "minutes_for_share",
    "share_reached",
    "share_used",
]
