"""Recurring reservations: an RFC 5545 RRULE read in park time from the first occurrence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from services.booking.rules.intervals import Interval
from shared.clock import PARK_TZ
from shared.errors import RuleViolation

MAX_OCCURRENCES = 104
"""Two years of a weekly meeting; a longer series is a new series later."""

_FREQUENCIES = {DAILY, WEEKLY, MONTHLY, YEARLY}


@dataclass(frozen=True)
class Occurrence:
    index: int
    usage: Interval


def occurrences(rule: str, first: Interval, *, until: datetime) -> list[Occurrence]:
    """The occurrences of ``rule`` from ``first`` (same wall-clock time and length in park time),
    none starting after ``until``. An RRULE without COUNT or UNTIL stops at ``until`` (the
    horizon); raises ``rule/rrule`` for a malformed rule, ``rule/series-length`` past
    :data:`MAX_OCCURRENCES`."""
    text = rule.strip().removeprefix("RRULE:")
    if not text or any(line in text.upper() for line in ("DTSTART", "\n", "EXDATE", "RDATE")):
        raise RuleViolation("Give one RRULE (e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=10).", code="rule/rrule")
    start = first.start.astimezone(PARK_TZ)
    try:
        parsed = rrulestr(text, dtstart=start)
    except (ValueError, TypeError) as exc:
        raise RuleViolation(f"The RRULE is not valid: {exc}.", code="rule/rrule") from None
    if not isinstance(parsed, rrule) or parsed._freq not in _FREQUENCIES:
        raise RuleViolation("A series repeats daily, weekly, monthly or yearly.", code="rule/rrule")
    length = first.end - first.start
    found: list[Occurrence] = []
    for index, moment in enumerate(parsed):
        if moment > until:
            break
        if index >= MAX_OCCURRENCES:
            raise RuleViolation(
                f"A series has at most {MAX_OCCURRENCES} occurrences.",
                code="rule/series-length",
                max_occurrences=MAX_OCCURRENCES,
            )
        begin = moment.astimezone(UTC)
        found.append(Occurrence(index, Interval(begin, begin + length)))
    if not found:
        raise RuleViolation("The RRULE gives no occurrence inside the booking horizon.", code="rule/rrule")
    return found
