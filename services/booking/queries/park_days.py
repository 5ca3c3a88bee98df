"""The park's calendar (``park_days``): the public holidays and make-up working days that the
spaces closing on holidays follow, read for a window (the rules' :data:`ParkCalendar`) and
answered year by year at ``GET /park-calendar``."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.booking.models import ParkDay, Space
from services.booking.rules import SpacePolicy
from services.booking.rules.intervals import Interval, ParkCalendar, ParkDate
from shared.clock import PARK_TZ
from shared.holidays import SOURCE, covered_years
from shared.i18n import Message, _


def dates_around(window: Interval, margin: timedelta = timedelta(0)) -> tuple[date, date]:
    """The park-time dates whose calendar can matter to ``window`` widened by ``margin`` (a day
    more each side: opening hours chain across midnight)."""
    first = (window.start - margin).astimezone(PARK_TZ).date() - timedelta(days=1)
    last = (window.end + margin).astimezone(PARK_TZ).date() + timedelta(days=1)
    return first, last


def park_days_between(session: Session, first: date, last: date) -> ParkCalendar:
    """The park's special days from ``first`` to ``last`` (inclusive)."""
    rows = session.execute(
        select(ParkDay.day, ParkDay.kind, ParkDay.name).where(ParkDay.day >= first, ParkDay.day <= last)
    )
    return {day: ParkDate(kind, name) for day, kind, name in rows}


def park_days_around(session: Session, window: Interval, margin: timedelta = timedelta(0)) -> ParkCalendar:
    """The park's special days that can matter to ``window`` (see :func:`dates_around`)."""
    return park_days_between(session, *dates_around(window, margin))


def day_view(row: ParkDay) -> dict[str, Any]:
    return {"date": row.day, "kind": row.kind, "name": row.name, "source": row.source, "updated_at": row.updated_at}


def loaded_years(session: Session) -> list[int]:
    """The years that have at least one day in the park's calendar."""
    days = session.execute(select(ParkDay.day)).scalars()
    return sorted({day.year for day in days})


def park_calendar(session: Session, year: int, today: date) -> dict[str, Any]:
    """One year of the park's calendar, which years it holds, which the source covers, and a
    warning when the coming year is not loaded yet (or the year asked is empty)."""
    rows = session.execute(select(ParkDay).where(ParkDay.day >= date(year, 1, 1), ParkDay.day <= date(year, 12, 31)))
    days = [day_view(row) for row in rows.scalars()]
    days.sort(key=lambda d: d["date"])
    loaded = loaded_years(session)
    source = covered_years()
    coming = today.year + 1
    warnings: list[Message] = []
    if coming not in loaded:
        if coming in source:
            warnings.append(
                _(
                    "The park's calendar has no days for {year} yet: load them from the official schedule.",
                    year=coming,
                )
            )
        else:
            warnings.append(
                _(
                    "The park's calendar has no days for {year}, and the official source covers only up to {last}: "
                    "enter {year} by hand once the State Council has published it.",
                    year=coming,
                    last=source.stop - 1,
                )
            )
    if not days and year != coming:
        warnings.append(_("The park's calendar has no days for {year}.", year=year))
    return {
        "year": year,
        "days": days,
        "loaded_years": loaded,
        "covered_years": list(source),
        "source": SOURCE,
        "next_year": coming,
        "next_year_loaded": coming in loaded,
        "warnings": warnings,
    }


def policy_of(session: Session, space: Space, window: Interval, margin: timedelta = timedelta(0)) -> SpacePolicy:
    """The rules of ``space`` for ``window``: with the park's special days around it when the
    space closes on public holidays (one query), its week alone otherwise (no query)."""
    return following_park_days(session, space.policy(), window, margin, closes=space.closes_on_public_holidays)


def following_park_days(
    session: Session, policy: SpacePolicy, window: Interval, margin: timedelta = timedelta(0), *, closes: bool
) -> SpacePolicy:
    """``policy`` with the park's special days around ``window`` when its space ``closes`` on
    public holidays; ``policy`` itself otherwise."""
    if not closes:
        return policy
    return replace(policy, park_days=park_days_around(session, window, margin))
