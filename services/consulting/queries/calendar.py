"""The business calendar as the SLA clocks read it, and as ``GET /calendar`` shows it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.consulting.models import CalendarDay, CalendarSettings, CalendarYear
from services.consulting.rules import BusinessCalendar, business_calendar

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
    return business_calendar({int(k): [tuple(p) for p in v] for k, v in hours.items()}, days, years)
