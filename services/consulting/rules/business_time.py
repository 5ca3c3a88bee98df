"""Business time for the SLA clocks: working hours in park time (Asia/Shanghai), split periods,
China's public holidays and make-up working days.

Pure: no database, no web framework. A :class:`BusinessCalendar` is built from plain data by
:func:`business_calendar` (working periods per weekday as ``"HH:MM"`` pairs, and special days as
anything with a ``day`` and a ``kind``: :class:`shared.holidays.OfficialDay`, a table's row), and
refused up front when it cannot work (no working time in the week, periods out of order), so
every loop below ends.

Decisions:
- A public holiday has no working time, whatever its weekday.
- A make-up working day (a Saturday or Sunday the State Council makes a working day) has the
  hours of the first weekday (Monday to Friday) that has any, as booking's staffed halls do; with
  no weekday hours it keeps that day's own.
- :func:`add_business_minutes` from a moment outside working time starts at the next working
  moment; a deadline that ends exactly at the end of a period *is* that end (12:00, not 13:30);
  adding 0 minutes gives the start itself.
- :func:`business_minutes_between` counts whole minutes of working time in ``[a, b)`` outside
  the pauses (rounded down), never negative.
- Years the calendar does not cover run on the weekly hours alone; ``covered_years`` is carried
  along so that callers can warn when the coming year is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import Protocol

from shared.clock import PARK_TZ
from shared.errors import RuleViolation
from shared.holidays import HOLIDAY, WORKDAY
from shared.i18n import _

__all__ = [
    "BusinessCalendar",
    "Period",
    "SpecialDayLike",
    "add_business_minutes",
    "business_calendar",
    "business_minutes_between",
    "minutes_for_share",
    "share_reached",
    "share_used",
]

Period = tuple[int, int]
"""A working period of a day: minutes from midnight, start included, end excluded (1440 = 24:00)."""

DAY_MINUTES = 24 * 60
_MINUTE = timedelta(minutes=1)


class SpecialDayLike(Protocol):
    """A special day as the calendar reads it: ``kind`` is ``holiday`` or ``workday``."""

    @property
    def day(self) -> date: ...

    @property
    def kind(self) -> str: ...


@dataclass(frozen=True)
class BusinessCalendar:
    """Working periods per weekday (0 = Monday), public holidays, make-up working days and the
    years the special days cover. Build it with :func:`business_calendar`, which checks it."""

    week: tuple[tuple[Period, ...], ...]
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    covered_years: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        # Checked again here, whoever builds it: the clocks' loops end only if the week has work.
        if len(self.week) != 7:
            raise ValueError(f"a week has 7 days of periods, not {len(self.week)}")
        if self.week_minutes <= 0:
            raise _no_working_time()

    def covers(self, year: int) -> bool:
        """Whether the special days of ``year`` are in the calendar (else the week alone counts)."""
        return year in self.covered_years

    def periods_of(self, day: date) -> tuple[Period, ...]:
        """The working periods of ``day`` (park time)."""
        if day in self.holidays:
            return ()
        if day in self.workdays and day.weekday() >= 5:
            return next((self.week[d] for d in range(5) if self.week[d]), self.week[day.weekday()])
        return self.week[day.weekday()]

    @property
    def week_minutes(self) -> int:
        """Working minutes of an ordinary week (no special days)."""
        return sum(end - start for periods in self.week for start, end in periods)

    @property
    def last_special_day(self) -> date | None:
        days = self.holidays | self.workdays
        return max(days) if days else None


def _minutes(value: str | time, weekday: int, *, end: bool) -> int:
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    try:
        hours, minutes = (int(part) for part in value.split(":"))
    except (AttributeError, ValueError):
        raise _invalid_period(weekday, value) from None
    total = hours * 60 + minutes
    if not (0 <= minutes < 60 and 0 <= total <= DAY_MINUTES) or (total == DAY_MINUTES and not end):
        raise _invalid_period(weekday, value)
    return total


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _no_working_time() -> RuleViolation:
    return RuleViolation(
        _("The calendar has no working time in the week: give at least one day a working period."),
        code="calendar/no-working-time",
    )


def _invalid_period(weekday: int, value: object) -> RuleViolation:
    return RuleViolation(
        _(
            "The working period {period} on weekday {weekday} (0 = Monday) is not a span of a day: give it as "
            "HH:MM to a later HH:MM, 24:00 at the latest.",
            period=str(value),
            weekday=weekday,
        ),
        code="calendar/period-invalid",
        weekday=weekday,
    )


def business_calendar(
    hours: Mapping[int, Iterable[tuple[str | time, str | time]]],
    days: Iterable[SpecialDayLike] = (),
    covered_years: Iterable[int] = (),
) -> BusinessCalendar:
    """A checked calendar from plain data: ``hours`` maps a weekday (0 = Monday … 6 = Sunday) to
    its working periods (``[("09:00", "12:00"), ("13:30", "18:00")]``), a day left out has none;
    ``days`` are the public holidays and make-up working days (``shared.holidays.official_days``
    or a table's rows); ``covered_years`` the years those days are known for.

    Refuses (422) a weekday outside 0–6 (``calendar/weekday``), a period that is not a span of a
    day (``calendar/period-invalid``), a day's periods out of order or overlapping
    (``calendar/periods-overlap``), a week without any working time (``calendar/no-working-time``)
    and a special day listed twice, of another kind, or a make-up working day that is not a
    Saturday or Sunday (``calendar/special-day``)."""
    week: list[tuple[Period, ...]] = [() for _day in range(7)]
    for weekday, periods in hours.items():
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise RuleViolation(
                _(
                    "Working hours are given per day of the week, 0 (Monday) to 6 (Sunday), not {weekday}.",
                    weekday=str(weekday),
                ),
                code="calendar/weekday",
            )
        parsed: list[Period] = []
        for start_text, end_text in periods:
            start = _minutes(start_text, weekday, end=False)
            end = _minutes(end_text, weekday, end=True)
            if start >= end:
                raise _invalid_period(weekday, f"{_clock(start)}-{_clock(end)}")
            if parsed and start < parsed[-1][1]:
                raise RuleViolation(
                    _(
                        "On weekday {weekday} (0 = Monday) the working period {period} starts before the one "
                        "before it ends: list a day's periods in order, without overlaps.",
                        weekday=weekday,
                        period=f"{_clock(start)}-{_clock(end)}",
                    ),
                    code="calendar/periods-overlap",
                    weekday=weekday,
                )
            parsed.append((start, end))
        week[weekday] = tuple(parsed)
    if not any(week):
        raise _no_working_time()
    holidays: set[date] = set()
    workdays: set[date] = set()
    for special in days:
        day = special.day
        if day in holidays or day in workdays:
            raise RuleViolation(
                _("{date} is listed twice among the special days.", date=day.isoformat()),
                code="calendar/special-day",
                date=day.isoformat(),
            )
        if special.kind == HOLIDAY:
            holidays.add(day)
        elif special.kind == WORKDAY:
            if day.weekday() < 5:
                raise RuleViolation(
                    _(
                        "{date} is not a Saturday or Sunday: only a weekend day can be a make-up working day.",
                        date=day.isoformat(),
                    ),
                    code="calendar/special-day",
                    date=day.isoformat(),
                )
            workdays.add(day)
        else:
            raise RuleViolation(
                _(
                    "{date}: {kind} is not a kind of special day (holiday or workday).",
                    date=day.isoformat(),
                    kind=str(special.kind),
                ),
                code="calendar/special-day",
                date=day.isoformat(),
            )
    return BusinessCalendar(tuple(week), frozenset(holidays), frozenset(workdays), frozenset(covered_years))


def _park(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"business time needs an aware datetime, not {moment!r}")
    return moment.astimezone(PARK_TZ)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), PARK_TZ)


def _working(day: date, calendar: BusinessCalendar) -> list[tuple[datetime, datetime]]:
    midnight = _midnight(day)
    return [(midnight + start * _MINUTE, midnight + end * _MINUTE) for start, end in calendar.periods_of(day)]


def add_business_minutes(start: datetime, minutes: int, calendar: BusinessCalendar) -> datetime:
    """The moment (park time) when ``minutes`` of business time have passed from ``start`` (any
    offset). From outside working time the clock starts at the next working moment; a deadline
    that ends exactly at a period's end is that end; 0 minutes is ``start`` itself."""
    if minutes < 0:
        raise ValueError(f"minutes must not be negative, not {minutes}")
    cursor = _park(start)
    remaining = minutes * _MINUTE
    if not remaining:
        return cursor
    week = calendar.week_minutes * _MINUTE  # > 0: a calendar without working time is refused
    last_special = calendar.last_special_day
    day = cursor.date()
    while True:
        if day > cursor.date() and day.weekday() == 0 and (last_special is None or day > last_special):
            # Past every special day the weeks are alike: skip the whole ones (at least one
            # working minute is left for the loop, so a deadline still ends at a period's end).
            weeks = (remaining - timedelta(microseconds=1)) // week
            day += timedelta(weeks=weeks)
            remaining -= weeks * week
        for period_start, end in _working(day, calendar):
            if end <= cursor:
                continue
            begin = max(period_start, cursor)
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        day += timedelta(days=1)


def _merged(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in sorted(intervals):
        if end <= begin:
            continue
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def business_minutes_between(
    a: datetime,
    b: datetime,
    calendar: BusinessCalendar,
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
) -> int:
    """Whole minutes of business time in ``[a, b)`` (any offsets) outside ``pauses`` (the clock
    stops while a case waits on the tenant; a pause without an end lasts until ``b``); 0 when
    ``b`` is not after ``a``."""
    start, stop = _park(a), _park(b)
    if stop <= start:
        return 0
    paused = _merged(
        (max(_park(begin), start), min(_park(end), stop) if end is not None else stop) for begin, end in pauses
    )
    total = timedelta(0)
    day = start.date()
    while day <= stop.date():
        for period_start, period_end in _working(day, calendar):
            begin, end = max(period_start, start), min(period_end, stop)
            if begin >= end:
                continue
            total += end - begin
            for pause_begin, pause_end in paused:
                overlap = min(end, pause_end) - max(begin, pause_begin)
                if overlap > timedelta(0):
                    total -= overlap
        day += timedelta(days=1)
    return total // _MINUTE


def share_used(elapsed: int, target: int) -> Decimal:
    """The share of a target (minutes) that ``elapsed`` minutes used, e.g. ``Decimal("0.8125")``
    (four places, half to even); above 1 once the target is passed."""
    if target <= 0:
        raise ValueError(f"a target must be positive, not {target}")
    return (Decimal(elapsed) / Decimal(target)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def share_reached(elapsed: int, target: int, share: Decimal) -> bool:
    """Whether ``elapsed`` minutes reached ``share`` (``Decimal("0.8")``) of ``target``, exactly
    (no rounding: 79.99 % is not 80 %)."""
    if target <= 0:
        raise ValueError(f"a target must be positive, not {target}")
    return Decimal(elapsed) >= share * target


def minutes_for_share(target: int, share: Decimal) -> int:
    """The business minutes after which ``share`` of ``target`` is reached (rounded up to a
    whole minute), for placing a warning with :func:`add_business_minutes`."""
    if target <= 0:
        raise ValueError(f"a target must be positive, not {target}")
    return int((share * target).to_integral_value(rounding=ROUND_CEILING))
