"""The business calendar as the SLA clocks read it, and as ``GET /calendar`` shows it.

**Which years must be held** (:func:`years_required`): the current year (park time) always; from
1 November the coming year too. The State Council announces the coming year's holidays in late
October or November and the ``chinesecalendar`` package follows some days later, so before
November a warning could not be acted on; from 1 November park admin has two months to load the
year (``POST /calendar/years/{year}/official``) or to type it in. A year that is not held runs
on the weekly hours alone: its public holidays would count as working time. ``GET /calendar``
and consulting's ``/health`` answer the same warnings (:func:`calendar_warnings`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.consulting.models import CalendarDay, CalendarSettings, CalendarYear
from services.consulting.rules import BusinessCalendar, business_calendar
from shared.clock import PARK_TZ, utcnow
from shared.db import Database
from shared.holidays import MANUAL, SOURCE, covered_years
from shared.i18n import Message, _, register_labels

CALENDAR_SOURCE = "calendar-source"
register_labels(
    CALENDAR_SOURCE,
    {SOURCE: _("The official schedule (chinesecalendar)"), MANUAL: _("Entered by hand")},
)
COMING_YEAR_FROM = (11, 1)
"""(month, day) in park time from which the coming year must be held too."""

DEFAULT_HOURS: dict[str, list[list[str]]] = {
    str(weekday): [["09:00", "12:00"], ["13:30", "18:00"]] for weekday in range(5)
}
"""Working hours until park admin sets others: Monday to Friday, 09:00–12:00 and 13:30–18:00."""


def load_business_calendar(session: Session) -> BusinessCalendar:
    """The calendar the clocks count in: the weekly hours (:data:`DEFAULT_HOURS` without a
    settings row), every special day held, and the years held."""
    settings = session.get(CalendarSettings, 1)
    hours = settings.hours if settings is not None else DEFAULT_HOURS
    days = session.execute(select(CalendarDay)).scalars().all()
    years = session.execute(select(CalendarYear.year)).scalars().all()
    return business_calendar({int(k): [(start, end) for start, end in v] for k, v in hours.items()}, days, years)


def park_today(now: datetime | None = None) -> date:
    """Today in park time."""
    return (now or utcnow()).astimezone(PARK_TZ).date()


def years_required(today: date) -> tuple[int, ...]:
    """The years the calendar must hold on ``today`` (park time): this year, and from 1 November
    the coming one too."""
    if (today.month, today.day) >= COMING_YEAR_FROM:
        return (today.year, today.year + 1)
    return (today.year,)


def calendar_warnings(held: Iterable[int], today: date) -> list[Message]:
    """A warning for each year :func:`years_required` names that the calendar does not hold,
    saying what to do: load it from the official schedule when the source has it, else enter it
    by hand."""
    held_years = set(held)
    source = covered_years()
    warnings = []
    for year in years_required(today):
        if year in held_years:
            continue
        if year in source:
            warnings.append(
                _(
                    "The business calendar has no public holidays for {year}: the SLA clocks count them as working "
                    "time. Load {year} from the official schedule.",
                    year=year,
                )
            )
        else:
            warnings.append(
                _(
                    "The business calendar has no public holidays for {year}, and the official source covers only "
                    "up to {last}: enter {year} by hand once the State Council has published it.",
                    year=year,
                    last=source.stop - 1,
                )
            )
    return warnings


def year_version(session: Session, year: int) -> int:
    """The ``ETag`` of a year's changes: its row's version, 0 while the calendar does not hold it."""
    held = session.get(CalendarYear, year)
    return held.version if held is not None else 0


def held_years(session: Session) -> list[int]:
    return sorted(session.execute(select(CalendarYear.year)).scalars())


def calendar_health(database: Database) -> list[Message]:
    """Consulting's own warnings in ``/health``: the years the calendar should hold and lacks."""
    with database.reading() as session:
        return calendar_warnings(held_years(session), park_today())


def minutes_per_working_day(session: Session) -> int:
    """The working minutes of a usual day: those of the first weekday (Monday to Friday) with any
    hours, the day a make-up working day copies (450 with 09:00–12:00 and 13:30–18:00)."""
    settings = session.get(CalendarSettings, 1)
    hours = settings.hours if settings is not None else DEFAULT_HOURS
    for weekday in range(5):
        periods = hours.get(str(weekday)) or []
        if periods:
            return sum(_minutes(end) - _minutes(start) for start, end in periods)
    return 0


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def calendar_view(session: Session, today: date, year: int | None = None) -> dict[str, Any]:
    """``GET /calendar``: the weekly hours and the settings' ``version`` (0 before park admin
    first sets them: the defaults), the years held with their source and counts, the years the
    official source covers, the special days (of ``year`` when given), and the warnings."""
    settings = session.get(CalendarSettings, 1)
    hours = settings.hours if settings is not None else DEFAULT_HOURS
    years = list(session.scalars(select(CalendarYear).order_by(CalendarYear.year)))
    query = select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        query = query.where(CalendarDay.year == year)
    days = list(session.scalars(query))
    counts: Counter[tuple[int, str]] = Counter(
        (y, kind) for y, kind in session.execute(select(CalendarDay.year, CalendarDay.kind))
    )
    source = covered_years()
    return {
        "hours": {str(weekday): [list(p) for p in hours.get(str(weekday), [])] for weekday in range(7)},
        "minutes_per_week": sum(_minutes(e) - _minutes(s) for periods in hours.values() for s, e in periods),
        "minutes_per_day": minutes_per_working_day(session),
        "version": settings.version if settings is not None else 0,
        "updated_by": settings.updated_by if settings is not None else None,
        "updated_at": settings.updated_at if settings is not None else None,
        "years": [
            {
                "year": y.year,
                "source": y.source,
                "loaded_by": y.loaded_by,
                "loaded_at": y.loaded_at,
                "version": y.version,
                "holidays": counts[(y.year, "holiday")],
                "workdays": counts[(y.year, "workday")],
            }
            for y in years
        ],
        "official_years": {"first": source.start, "last": source.stop - 1},
        "days": [{"day": d.day, "year": d.year, "kind": d.kind, "name": d.name} for d in days],
        "warnings": calendar_warnings((y.year for y in years), today),
    }
