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
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.consulting.commands.calendar import (
    WITHOUT_IF_MATCH,
    EnterYear,
    LoadOfficialYear,
    SetHours,
    YearVersions,
)
from services.consulting.models import CalendarDay, CalendarSettings, CalendarYear
from services.consulting.queries.calendar import DEFAULT_HOURS, calendar_view, park_today
from services.consulting.rules import business_calendar
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, PreconditionRequired, RuleViolation, check_version
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
    ``calendar/year-not-covered``, naming the years the source covers, when it lacks the year),
    under ``If-Match`` on the year's version when the year is held (:func:`replace_year`)."""
    year = check_year(cmd.year, code=YEAR_CODE)
    days = official_days(year)
    replace_year(
        uow,
        year,
        ((d.day, d.kind, d.name) for d in days),
        source=SOURCE,
        by=cmd.actor.subject,
        expected=cmd.expected_versions,
    )
    return calendar_view(uow.session, park_today(), year)


def enter_year(cmd: EnterYear, *, uow: UnitOfWork) -> dict[str, Any]:
    """Replace the year's days with those park admin typed in, source ``manual``: every day in
    the year, once, a make-up working day only on a weekend (``calendar/special-day``); under
    ``If-Match`` on the year's version when the year is held (:func:`replace_year`)."""
    year = check_year(cmd.year, code=YEAR_CODE)
    days = check_entered_days(year, ((d.day, d.kind, d.name) for d in cmd.days), code="calendar/special-day")
    replace_year(uow, year, days, source=MANUAL, by=cmd.actor.subject, expected=cmd.expected_versions)
    return calendar_view(uow.session, park_today(), year)


def replace_year(
    uow: UnitOfWork,
    year: int,
    days: Iterable[tuple[date, str, str | None]],
    *,
    source: str,
    by: str,
    expected: YearVersions = None,
) -> None:
    """Delete the year's days and write ``days``, marking where they came from. The whole calendar
    is built first (the rules refuse what cannot work). The year's row is read ``FOR UPDATE``, so
    the worker's job (which claims a year by inserting its row) and two replacements never
    interleave; ``expected`` is checked on its version: a held year needs ``If-Match`` (428
    without, 412 stale), a year not held yet may be written without it (or with ``"0"``). Two
    first entries of one year at once: the later meets the first's row, a 409 to try again."""
    session = uow.session
    listed = list(days)
    _check_calendar(session, year, listed)
    held = session.get(CalendarYear, year, with_for_update=True)
    if expected == WITHOUT_IF_MATCH:
        if held is not None:
            raise PreconditionRequired(_("Send If-Match with the ETag you last read, so changes are never lost."))
    else:
        check_version(held.version if held is not None else 0, expected)
    if held is None:
        held = CalendarYear(year=year)
        session.add(held)
    held.source, held.loaded_by, held.loaded_at = source, by, utcnow()
    _flush(uow)
    _write_days(uow, year, listed)


def _check_calendar(session: Session, year: int, listed: Sequence[tuple[date, str, str | None]]) -> None:
    """Build the calendar the clocks would count in with ``listed`` as the year's days (the
    rules' ``calendar/*`` codes when it cannot work)."""
    settings = session.get(CalendarSettings, 1)
    others = session.scalars(select(CalendarDay).where(CalendarDay.year != year)).all()
    hours = settings.hours if settings is not None else DEFAULT_HOURS
    business_calendar(_hours(hours), [*others, *(_Day(d, k) for d, k, _n in listed)], [])


def _write_days(uow: UnitOfWork, year: int, listed: Sequence[tuple[date, str, str | None]]) -> None:
    session = uow.session
    session.execute(delete(CalendarDay).where(CalendarDay.year == year))
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
    is never touched, so running it again changes nothing. Each year is claimed by inserting its
    row ``ON CONFLICT DO NOTHING`` before its days are written: a year park admin enters by hand
    while the job runs is either committed first (the job skips it) or waits for the job's
    commit and then replaces the job's days under its own ``If-Match``. Returns how many years
    it loaded."""
    session = uow.session
    today = park_today(now)
    loaded = 0
    for year in covered_years():
        if year < today.year:
            continue
        listed = [(d.day, d.kind, d.name) for d in official_days(year)]
        _check_calendar(session, year, listed)
        if not _claim(session, year):
            continue
        _write_days(uow, year, listed)
        loaded += 1
    return loaded


def _claim(session: Session, year: int) -> bool:
    """Insert the year's row as the job's, ``ON CONFLICT DO NOTHING``: True when this run
    inserted it (PostgreSQL waits for a concurrent insert of the same year to end first)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(CalendarYear)
        .values(year=year, source=SOURCE, loaded_by=JOB_ACTOR, loaded_at=utcnow(), version=1)
        .on_conflict_do_nothing()
        .returning(CalendarYear.year)
    )
    return session.execute(statement).first() is not None
