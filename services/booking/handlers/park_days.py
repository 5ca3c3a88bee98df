"""Park admin's commands on the park's calendar (``park_days``): load a year from China's official
schedule (:mod:`shared.holidays`), or enter a year by hand while the source lags the State
Council's announcement. Either replaces the whole year; both are appended to the audit trail of
admin changes (entity ``park_calendar``). That the caller is park admin is the view's guard (the
``manage_park_calendar`` row of booking's table of rights)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from services.booking.commands import EnterYear, LoadOfficialYear
from services.booking.models import AdminChange, ParkDay
from services.booking.queries.park_days import park_calendar
from shared.clock import PARK_TZ, utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict
from shared.holidays import (
    HOLIDAY,
    MANUAL,
    SOURCE,
    SOURCE_VERSION,
    WORKDAY,
    check_entered_days,
    official_days,
)
from shared.i18n import _
from shared.principal import Principal

ENTITY = "park_calendar"
"""The audit trail's entity of the calendar's changes (its labels: :mod:`services.booking.rules.names`)."""


def load_official_year(cmd: LoadOfficialYear, *, uow: UnitOfWork) -> dict[str, Any]:
    """The year's holidays and make-up working days from the official source (422
    ``calendar/year-not-covered``, naming the years it covers, when it has none); returns the
    year as ``GET /park-calendar`` answers it."""
    days = official_days(cmd.year)
    _replace_year(uow, cmd.year, ((d.day, d.kind, d.name) for d in days), source=SOURCE)
    _audit(uow, cmd.actor, cmd.year, "load", {"source": f"{SOURCE} {SOURCE_VERSION}", **_counts(d.kind for d in days)})
    return park_calendar(uow.session, cmd.year, utcnow().astimezone(PARK_TZ).date())


def enter_year(cmd: EnterYear, *, uow: UnitOfWork) -> dict[str, Any]:
    """The year's days as park admin typed them from the State Council's announcement: every day
    in ``year``, each once, a make-up working day only on a Saturday or Sunday
    (``shared.holidays.check_entered_days``: ``rule/park-calendar``, nothing written otherwise).
    An empty list empties the year."""
    days = check_entered_days(cmd.year, ((e.day, e.kind, e.name) for e in cmd.days), code="rule/park-calendar")
    _replace_year(uow, cmd.year, days, source=MANUAL)
    _audit(uow, cmd.actor, cmd.year, "enter", {"source": MANUAL, **_counts(e.kind for e in cmd.days)})
    return park_calendar(uow.session, cmd.year, utcnow().astimezone(PARK_TZ).date())


def _counts(kinds: Iterable[str]) -> dict[str, int]:
    listed = list(kinds)
    return {"holidays": listed.count(HOLIDAY), "workdays": listed.count(WORKDAY)}


def _audit(uow: UnitOfWork, actor: Principal, year: int, action: str, details: dict[str, Any]) -> None:
    uow.session.add(
        AdminChange(
            entity=ENTITY,
            entity_id=str(year),
            action=action,
            actor=actor.subject,
            actor_name=actor.name or None,
            details=details,
            at=utcnow(),
        )
    )


def _replace_year(uow: UnitOfWork, year: int, days: Iterable[tuple[date, str, str | None]], *, source: str) -> None:
    """Delete the year's days and write ``days``. Two replacements of one year at once: the
    later one meets the first one's rows (PostgreSQL), a 409 to try again."""
    now = utcnow()
    uow.session.execute(delete(ParkDay).where(ParkDay.day >= date(year, 1, 1), ParkDay.day <= date(year, 12, 31)))
    uow.session.add_all(ParkDay(day=d, kind=k, name=n, source=source, updated_at=now) for d, k, n in days)
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict(
            _("Another change of the park's calendar got there first; try again."), code="conflict/concurrent-change"
        ) from None
