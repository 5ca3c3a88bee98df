"""Recurring reservations: an RFC 5545 RRULE read in park time from the first occurrence.

As in RFC 5545, the given start (DTSTART) is always the first occurrence, and COUNT counts it,
even when the rule itself would not produce it; COUNT and UNTIL never come together. Only the
parts a room booking needs are accepted, and a rule that can never produce a date is refused
before it is expanded: dateutil
looks for a next date up to the year 9999, which for ``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31``
takes seconds. With these parts, any rule that passes produces a date within a few decades.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from services.booking.rules.intervals import Interval
from shared.clock import PARK_TZ
from shared.errors import RuleViolation
from shared.i18n import Message, _

MAX_OCCURRENCES = 104
"""Two years of a weekly meeting; a longer series is a new series later."""

MAX_INTERVAL = 52
PARTS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"})
_FREQUENCIES = {DAILY, WEEKLY, MONTHLY, YEARLY}
_LONGEST_MONTH = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


@dataclass(frozen=True)
class Occurrence:
    index: int
    usage: Interval


def _refuse(detail: Message) -> RuleViolation:
    return RuleViolation(detail, code="rule/rrule")


def _numbers(value: str, name: str) -> list[int]:
    try:
        return [int(item) for item in value.split(",")]
    except ValueError:
        raise _refuse(_("{part} takes whole numbers.", part=name)) from None


def _parts(text: str) -> dict[str, str]:
    """The rule's parts, checked: known, once each, and able to produce a date at all."""
    parts: dict[str, str] = {}
    for item in text.split(";"):
        name, _equals, value = item.partition("=")
        name = name.strip().upper()
        if name not in PARTS or not value.strip():
            raise _refuse(
                _("An RRULE here takes {parts}; not “{given}”.", parts=", ".join(sorted(PARTS)), given=name or item)
            )
        if name in parts:
            raise _refuse(_("{part} is given twice.", part=name))
        parts[name] = value.strip().upper()
    if "FREQ" not in parts:
        raise _refuse(_("An RRULE needs FREQ."))
    if "COUNT" in parts and "UNTIL" in parts:
        # RFC 5545 §3.3.10: UNTIL and COUNT MUST NOT occur in the same rule (dateutil takes both).
        raise _refuse(_("COUNT and UNTIL cannot both be given (RFC 5545): end the series by a number or by a date."))
    if "INTERVAL" in parts and not 1 <= _numbers(parts["INTERVAL"], "INTERVAL")[0] <= MAX_INTERVAL:
        raise _refuse(_("INTERVAL is between 1 and {maximum}.", maximum=MAX_INTERVAL))
    if "COUNT" in parts:
        count = _numbers(parts["COUNT"], "COUNT")[0]
        if count < 1:
            raise _refuse(_("COUNT is at least 1."))
        if count > MAX_OCCURRENCES:
            raise _too_long()
    if "BYSETPOS" in parts:
        positions = _numbers(parts["BYSETPOS"], "BYSETPOS")
        if parts["FREQ"] not in ("MONTHLY", "YEARLY") or "BYDAY" not in parts or "BYMONTHDAY" in parts:
            raise _refuse(_("BYSETPOS picks among the BYDAY days of a month or year (FREQ=MONTHLY or YEARLY)."))
        if any(not 1 <= abs(p) <= 5 for p in positions):
            raise _refuse(_("BYSETPOS is between -5 and 5, not 0."))
    if "BYMONTHDAY" in parts:
        days = _numbers(parts["BYMONTHDAY"], "BYMONTHDAY")
        months = _numbers(parts["BYMONTH"], "BYMONTH") if "BYMONTH" in parts else list(_LONGEST_MONTH)
        if not any(1 <= abs(d) <= _LONGEST_MONTH.get(m, 0) for d in days for m in months):
            raise _refuse(_("BYMONTH and BYMONTHDAY name no day of any calendar: the series would never occur."))
    return parts


def _too_long() -> RuleViolation:
    return RuleViolation(
        _("A series has at most {maximum} occurrences.", maximum=MAX_OCCURRENCES),
        code="rule/series-length",
        max_occurrences=MAX_OCCURRENCES,
    )


def occurrences(rule: str, first: Interval, *, horizon: datetime) -> list[Occurrence]:
    """The occurrences of ``rule`` from ``first`` (same wall-clock time and length in park time).

    A rule with COUNT or UNTIL gives all its occurrences, also those after ``horizon`` (the
    caller refuses those with ``rule/horizon``); a rule without either stops at ``horizon``.
    Raises ``rule/rrule`` for a malformed rule or one that never occurs, ``rule/series-length``
    past :data:`MAX_OCCURRENCES`."""
    text = rule.strip().removeprefix("RRULE:")
    if not text or any(line in text.upper() for line in ("DTSTART", "\n", "EXDATE", "RDATE")):
        raise _refuse(_("Give one RRULE (e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=10)."))
    parts = _parts(text)
    start = first.start.astimezone(PARK_TZ)
    try:
        parsed = rrulestr(text, dtstart=start)
    except (ValueError, TypeError) as exc:
        # dateutil's own words are English and name its internals; say which part is wrong.
        named = re.search(r"'([A-Z]+)'", str(exc))
        if named and named.group(1) in parts:
            raise _refuse(
                _("The RRULE's {part} cannot be “{value}”.", part=named.group(1), value=parts[named.group(1)])
            ) from None
        raise _refuse(_("The RRULE “{rule}” is not valid (RFC 5545).", rule=text)) from None
    if not isinstance(parsed, rrule) or parsed._freq not in _FREQUENCIES:
        raise _refuse(_("A series repeats daily, weekly, monthly or yearly."))
    bounded = "COUNT" in parts or "UNTIL" in parts
    count = int(parts["COUNT"]) if "COUNT" in parts else None
    moments: list[datetime] = [start]
    for moment in parsed:
        if moment == start:
            continue
        if count is not None and len(moments) >= count:
            break
        if not bounded and moment > horizon:
            break
        if len(moments) >= MAX_OCCURRENCES:
            raise _too_long()
        moments.append(moment)
    length = first.end - first.start
    return [
        Occurrence(index, Interval(moment.astimezone(UTC), moment.astimezone(UTC) + length))
        for index, moment in enumerate(moments)
    ]
