"""Park admin's business calendar: the weekly hours, a year of public holidays and make-up working
days loaded from the official schedule (:mod:`shared.holidays`) or typed in by hand, and the
worker's job that loads the official years the calendar lacks. That the caller is park admin is
the view's guard (``manage_calendar``).

Every change is checked by building the calendar the clocks would count in
(:func:`services.consulting.rules.business_calendar`, the ``calendar/*`` codes), so nothing is
written that cannot work. Changing the hours or a year's days changes the deadlines of running
clocks too: a clock stores when it started and its target, and its due moment is counted in the
calendar as it is now (that is what a holiday entered late must do).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from services.consulting.commands.calendar import EnterYear, LoadOfficialYear, SetHours
from services.consulting.models import CalendarDay, CalendarSettings, CalendarYear
from services.consulting.queries.calendar import DEFAULT_HOURS, calendar_view, park_today
from services.consulting.rules import business_calendar
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, RuleViolation, check_version
from shared.holidays import MANUAL, SOURCE, check_entered_days, check_year, covered_years, official_days
from shared.i18n import _

JOB_ACTOR = "job:keep_official_years"
"""Who loaded a year the worker's job loaded (``loaded_by``)."""
YEAR_CODE = "calendar/year"


def _hours(raw: Mapping[str, Sequence[Sequence[str]]]) -> dict[int, list[tuple[str, str]]]:
    """The weekly hours keyed by weekday number, as the rules take them (``calendar/weekday``
    for a key that is not one)."""
    hours: dict[int, list[tuple[str, str]]] = {}
    for key, periods in raw.items():
        if not (isinstance(key, str) and key.isdigit() and len(key) == 1):
            raise RuleViolation(
                _("Weekdays are 0 (Monday) to 6 (Sunday); {key} is not one.", key=str(key)), code="calendar/weekday"
            )
        hours[int(key)] = [(str(start), str(end)) for start, end in periods]
    return hours


def set_hours(cmd: SetHours, *, uow: UnitOfWork) -> dict[str, Any]:
    """Replace the weekly hours under ``If-Match`` on the settings' version (0 while the defaults
    hold); refused with the rules' ``calendar/*`` codes when the week cannot work."""
    session = uow.session
    hours = _hours(cmd.hours)
    days = session.scalars(select(CalendarDay)).all()
    business_calendar(hours, days, [])
    settings = session.get(CalendarSettings, 1)
    check_version(settings.version if settings is not None else 0, cmd.expected_versions)
    stored = {str(weekday): [list(p) for p in periods] for weekday, periods in sorted(hours.items()) if periods}
    if settings is None:
        settings = CalendarSettings(id=1)
        session.add(settings)
    settings.hours = stored
    settings.updated_by = cmd.actor.subject
    settings.updated_at = utcnow()
    _flush(uow)
    return calendar_view(session, park_today())


def load_official_year(cmd: LoadOfficialYear, *, uow: UnitOfWork) -> dict[str, Any]:
    """Replace the year's days with the official schedule's, source ``chinesecalendar`` (422
    ``calendar/year-not-covered``, naming the years the source covers, when it lacks the year)."""
    year = check_year(cmd.year, code=YEAR_CODE)
    days = official_days(year)
    replace_year(uow, year, ((d.day, d.kind, d.name) for d in days), source=SOURCE, by=cmd.actor.subject)
    return calendar_view(uow.session, park_today(), year)


def enter_year(cmd: EnterYear, *, uow: UnitOfWork) -> dict[str, Any]:
    """Replace the year's days with those park admin typed in, source ``manual``: every day in
    the year, once, a make-up working day only on a weekend (``calendar/special-day``)."""
    year = check_year(cmd.year, code=YEAR_CODE)
    days = check_entered_days(year, ((d.day, d.kind, d.name) for d in cmd.days), code="calendar/special-day")
    replace_year(uow, year, days, source=MANUAL, by=cmd.actor.subject)
    return calendar_view(uow.session, park_today(), year)


def replace_year(
    uow: UnitOfWork, year: int, days: Iterable[tuple[date, str, str | None]], *, source: str, by: str
) -> None:
    """Delete the year's days and write ``days``, marking where they came from. The whole calendar
    is built first (the rules refuse what cannot work). Two replacements of one year at once: the
    later meets the first's rows (PostgreSQL), a 409 to try again."""
    session = uow.session
    listed = list(days)
    settings = session.get(CalendarSettings, 1)
    others = session.scalars(select(CalendarDay).where(CalendarDay.year != year)).all()
    hours = settings.hours if settings is not None else DEFAULT_HOURS
    business_calendar(_hours(hours), [*others, *(_Day(d, k) for d, k, _n in listed)], [])
    session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    held = session.get(CalendarYear, year)
    if held is None:
        held = CalendarYear(year=year)
        session.add(held)
    held.source, held.loaded_by, held.loaded_at = source, by, utcnow()
    session.flush()
    session.add_all(CalendarDay(day=d, year=year, kind=k, name=n) for d, k, n in listed)
    _flush(uow)


class _Day:
    """A day as the rules read it (``day``, ``kind``)."""

    def __init__(self, day: date, kind: str) -> None:
        self.day, self.kind = day, kind


def _flush(uow: UnitOfWork) -> None:
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict(
            _("Another change of the business calendar got there first; try again."),
            code="conflict/concurrent-change",
        ) from None


def keep_official_years(*, uow: UnitOfWork, now: datetime | None = None) -> int:
    """The worker's job: load from the official source every year it covers, from this year (park
    time) on, that the calendar does not hold; a year held already (loaded, or entered by hand)
    is never touched, so running it again changes nothing. Returns how many years it loaded."""
    today = park_today(now)
    held = set(uow.session.scalars(select(CalendarYear.year)))
    loaded = 0
    for year in covered_years():
        if year < today.year or year in held:
            continue
        replace_year(uow, year, ((d.day, d.kind, d.name) for d in official_days(year)), source=SOURCE, by=JOB_ACTOR)
        loaded += 1
    return loaded
