"""Time intervals and opening hours, read in park time (Asia/Shanghai) and answered in UTC; the
park's calendar of public holidays and make-up working days for the spaces that follow it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType

from services.booking.rules.names import WEEKDAY_NAMES
from shared.clock import PARK_TZ
from shared.errors import RuleViolation
from shared.holidays import HOLIDAY, WORKDAY
from shared.i18n import _

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MINUTES = 24 * 60

OpeningHours = Mapping[int, tuple[tuple[int, int], ...]]
"""Per weekday (0 = Monday) the open periods as minutes after local midnight, closes up to 1440."""


@dataclass(frozen=True)
class ParkDate:
    """A day of the park's calendar off the usual week: a public holiday (``holiday``) or a
    weekend day that is a working day (``workday``, a make-up day); ``name`` is the festival's
    code (``national_day``) or a name park admin typed."""

    kind: str
    name: str | None = None


ParkCalendar = Mapping[date, ParkDate]
"""The park's special days (park-time dates) that a space closing on public holidays follows;
empty for every other space."""
NO_PARK_DAYS: ParkCalendar = MappingProxyType({})


@dataclass(frozen=True, order=True)
class Interval:
    """A half-open interval ``[start, end)`` of aware datetimes."""

    start: datetime
    end: datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end

    def widened(self, before: timedelta, after: timedelta) -> Interval:
        return Interval(self.start - before, self.end + after)


def _minutes(text: str) -> int:
    try:
        hours, minutes = text.split(":")
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        raise RuleViolation(_("“{value}” is not a time of day HH:MM.", value=text), code="rule/opening-hours") from None
    if not 0 <= value <= DAY_MINUTES or not 0 <= int(minutes) < 60:
        raise RuleViolation(
            _("“{value}” is not a time of day between 00:00 and 24:00.", value=text), code="rule/opening-hours"
        )
    return value


def parse_opening_hours(document: Mapping[str, Sequence[Sequence[str]]] | None) -> OpeningHours:
    """``{"monday": [["08:00", "22:00"]], ...}`` (park time) into :data:`OpeningHours`.

    A weekday that is missing or empty is closed all day. Raises ``rule/opening-hours``.
    """
    document = document or {}
    unknown = set(document) - set(WEEKDAYS)
    if unknown:
        raise RuleViolation(_("Unknown weekdays: {days}.", days=", ".join(sorted(unknown))), code="rule/opening-hours")
    hours: dict[int, tuple[tuple[int, int], ...]] = {}
    for index, day in enumerate(WEEKDAYS):
        periods = sorted((_minutes(p[0]), _minutes(p[1])) for p in document.get(day, ()))
        for opens, closes in periods:
            if opens >= closes:
                raise RuleViolation(
                    _("On {day} a period closes before it opens.", day=WEEKDAY_NAMES[day]), code="rule/opening-hours"
                )
        for (_opens, closes), (opens, _closes) in zip(periods, periods[1:], strict=False):
            if opens < closes:
                raise RuleViolation(
                    _("On {day} two periods overlap.", day=WEEKDAY_NAMES[day]), code="rule/opening-hours"
                )
        hours[index] = tuple(periods)
    return hours


def render_opening_hours(hours: OpeningHours) -> dict[str, list[list[str]]]:
    def clock(value: int) -> str:
        return f"{value // 60:02d}:{value % 60:02d}"

    return {WEEKDAYS[d]: [[clock(o), clock(c)] for o, c in hours.get(d, ())] for d in range(7)}


def local_midnight(day: datetime) -> datetime:
    local = day.astimezone(PARK_TZ)
    return datetime.combine(local.date(), time(0), PARK_TZ)


def workday_hours(hours: OpeningHours) -> tuple[tuple[int, int], ...]:
    """The hours of a make-up working day: those of the first weekday (Monday to Friday) that has
    any. The source says which festival a make-up day serves, not which weekday's work it makes
    up, and a space's weekdays usually share their hours."""
    return next((hours[d] for d in range(5) if hours.get(d)), ())


def hours_of(hours: OpeningHours, day: date, calendar: ParkCalendar = NO_PARK_DAYS) -> tuple[tuple[int, int], ...]:
    """The open periods of ``day`` (park time): none on a public holiday, a weekday's on a
    make-up working day that falls on a weekend (the day's own when no weekday has hours)."""
    special = calendar.get(day)
    if special is not None and special.kind == HOLIDAY:
        return ()
    if special is not None and special.kind == WORKDAY and day.weekday() >= 5:
        return workday_hours(hours) or tuple(hours.get(day.weekday(), ()))
    return tuple(hours.get(day.weekday(), ()))


def whole_day(day: date) -> Interval:
    """``day`` (park time) from midnight to midnight, in UTC."""
    midnight = datetime.combine(day, time(0), PARK_TZ)
    return Interval(midnight.astimezone(UTC), (midnight + timedelta(days=1)).astimezone(UTC))


def holidays_meeting(calendar: ParkCalendar, window: Interval) -> list[tuple[date, ParkDate, Interval]]:
    """The public holidays of ``calendar`` whose day (park time) meets ``window``, in date order."""
    if not calendar:
        return []
    day = window.start.astimezone(PARK_TZ).date()
    last = window.end.astimezone(PARK_TZ).date()
    found = []
    while day <= last:
        special = calendar.get(day)
        if special is not None and special.kind == HOLIDAY and whole_day(day).overlaps(window):
            found.append((day, special, whole_day(day)))
        day += timedelta(days=1)
    return found


def opening_intervals(hours: OpeningHours, window: Interval, calendar: ParkCalendar = NO_PARK_DAYS) -> list[Interval]:
    """The open periods that meet ``window``, clipped to it, merged where they touch (UTC).
    ``calendar`` closes its public holidays and opens its make-up working days (see :func:`hours_of`)."""
    first = window.start.astimezone(PARK_TZ).date() - timedelta(days=1)
    last = window.end.astimezone(PARK_TZ).date()
    found: list[Interval] = []
    day = first
    while day <= last:
        midnight = datetime.combine(day, time(0), PARK_TZ)
        for opens, closes in hours_of(hours, day, calendar):
            period = Interval(
                (midnight + timedelta(minutes=opens)).astimezone(UTC),
                (midnight + timedelta(minutes=closes)).astimezone(UTC),
            )
            if period.overlaps(window):
                found.append(Interval(max(period.start, window.start), min(period.end, window.end)))
        day += timedelta(days=1)
    return merge(found)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined."""
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if merged and interval.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Interval(last.start, max(last.end, interval.end))
        else:
            merged.append(interval)
    return merged


def subtract(intervals: Iterable[Interval], blockers: Iterable[Interval]) -> list[Interval]:
    """What is left of ``intervals`` once every blocker is cut out."""
    result = merge(intervals)
    for blocker in merge(blockers):
        remaining: list[Interval] = []
        for interval in result:
            if not interval.overlaps(blocker):
                remaining.append(interval)
                continue
            if interval.start < blocker.start:
                remaining.append(Interval(interval.start, blocker.start))
            if blocker.end < interval.end:
                remaining.append(Interval(blocker.end, interval.end))
        result = remaining
    return result


def month_of(moment: datetime) -> Interval:
    """The calendar month (park time) ``moment`` falls in, as a UTC interval."""
    local = moment.astimezone(PARK_TZ)
    first = datetime.combine(local.date().replace(day=1), time(0), PARK_TZ)
    if first.month == 12:
        following = first.replace(year=first.year + 1, month=1)
    else:
        following = first.replace(month=first.month + 1)
    return Interval(first.astimezone(UTC), following.astimezone(UTC))
