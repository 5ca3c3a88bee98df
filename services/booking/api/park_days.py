"""``/park-calendar``: the park's public holidays and make-up working days, which the spaces that
close on public holidays follow. Every signed-in user reads it; park admin loads a year from the
official schedule or enters it by hand."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.booking import handlers
from services.booking.api.schemas.park_days import ParkCalendarQuerySchema, ParkCalendarSchema, ParkYearInSchema
from services.booking.api.schemas.spaces import AdminHistorySchema
from services.booking.commands import DayEntry, EnterYear, LoadOfficialYear
from services.booking.handlers.park_days import ENTITY
from services.booking.permissions import RIGHTS
from services.booking.queries.park_days import park_calendar
from services.booking.queries.spaces import admin_history
from shared.clock import PARK_TZ, utcnow
from shared.holidays import check_year
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.views import execute, reading

blp = Blueprint(
    "booking-park-calendar",
    "parkhub.booking.park_calendar",
    description="China's public holidays and make-up working days, as the park's halls follow them.",
)


def _year(year: int) -> int:
    return check_year(year, code="rule/park-calendar")


@blp.route("/park-calendar")
class ParkCalendar(MethodView):
    @RIGHTS.guard("read_park_calendar", current_principal)
    @blp.arguments(ParkCalendarQuerySchema, location="query")
    @blp.response(200, ParkCalendarSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """One year's holidays and make-up working days, the years loaded, the years the official
        source covers, and a warning while the coming year is missing."""
        today = utcnow().astimezone(PARK_TZ).date()
        with reading() as session:
            return park_calendar(session, args.get("year", today.year), today)


@blp.route("/park-calendar/<int:year>")
class ParkCalendarYear(MethodView):
    @RIGHTS.guard("manage_park_calendar", current_principal)
    @blp.arguments(ParkYearInSchema)
    @blp.response(200, ParkCalendarSchema)
    def put(self, body: dict[str, Any], year: int) -> dict[str, Any]:
        """Enter a year by hand (park admin), from the State Council's announcement, while the
        official source lags: the list replaces every day of the year."""
        days = tuple(DayEntry(d["date"], d["kind"], d.get("name")) for d in body["days"])
        return execute(handlers.enter_year, EnterYear(current_principal(), _year(year), days))


@blp.route("/park-calendar/<int:year>/load")
class ParkCalendarLoad(MethodView):
    @RIGHTS.guard("manage_park_calendar", current_principal)
    @blp.response(200, ParkCalendarSchema)
    def post(self, year: int) -> dict[str, Any]:
        """Load a year from the official schedule (park admin), replacing its days; 422
        ``calendar/year-not-covered``, naming the covered years, when the source lacks it."""
        return execute(handlers.load_official_year, LoadOfficialYear(current_principal(), _year(year)))


@blp.route("/park-calendar/history")
class ParkCalendarHistory(MethodView):
    @RIGHTS.guard("read_park_calendar_history", current_principal)
    @blp.response(200, AdminHistorySchema)
    def get(self) -> dict[str, Any]:
        """Who loaded or entered which year, and when."""
        with reading() as session:
            return {"items": admin_history(session, ENTITY)}
