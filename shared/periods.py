"""Periods of park days, as reports read them: pure (no web framework, no database)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from shared.clock import PARK_TZ, as_utc
from shared.errors import RuleViolation
from shared.i18n import _

MAX_PERIOD = timedelta(days=366)
"""The longest period a report covers: a year, a leap year's included."""


def park_period(first: date, last: date) -> tuple[datetime, datetime]:
    """The park days ``first`` to ``last`` (both included) as UTC instants ``[start, end)``;
    ``rule/end-after-start`` (422) when it ends before it starts, ``rule/report-period`` (422)
    beyond :data:`MAX_PERIOD`. Every service's reports take their periods this way."""
    start = as_utc(datetime.combine(first, time(0), PARK_TZ))
    end = as_utc(datetime.combine(last + timedelta(days=1), time(0), PARK_TZ))
    if end <= start:
        raise RuleViolation(_("The period ends before it starts."), code="rule/end-after-start")
    if end - start > MAX_PERIOD:
        raise RuleViolation(_("A report covers at most a year."), code="rule/report-period")
    return start, end
