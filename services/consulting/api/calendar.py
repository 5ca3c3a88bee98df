"""``/calendar``: the business calendar the SLA clocks count in. Everyone signed in reads it;
park admin sets the weekly hours and loads or enters the years' public holidays and make-up
working days. Consulting's ``/health`` warns while a year the calendar should hold is missing."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.consulting.api.schemas.calendar import CalendarQuerySchema, CalendarSchema, HoursInSchema, YearInSchema
from services.consulting.commands.calendar import DayEntry, EnterYear, LoadOfficialYear, SetHours
from services.consulting.handlers.calendar import enter_year, load_official_year, set_hours
from services.consulting.permissions import RIGHTS
from services.consulting.queries.calendar import calendar_health, calendar_view, park_today
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.ops import add_health_check
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "consulting-calendar", "parkhub.consulting.calendar", description="The business calendar of the SLA clocks."
)
add_health_check(blp, calendar_health)


@blp.route("/calendar")
class Calendar(MethodView):
    @RIGHTS.guard("read_calendar", current_principal)
    @blp.arguments(CalendarQuerySchema, location="query")
    @blp.response(200, CalendarSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The weekly hours (``ETag``: their version), the years held and where each came from,
        the years the official source covers, the special days (of ``year``), and warnings."""
        with reading() as session:
            calendar = calendar_view(session, park_today(), args.get("year"))
        return calendar, 200, versioned_headers(calendar["version"])


@blp.route("/calendar/hours")
class CalendarHours(MethodView):
    @RIGHTS.guard("manage_calendar", current_principal)
    @blp.arguments(HoursInSchema)
    @blp.response(200, CalendarSchema)
    @blp.doc(parameters=[IF_MATCH])
    def put(self, body: dict[str, Any]) -> Any:
        """Replace the weekly hours (park admin; ``If-Match`` on the calendar's version, ``"0"``
        while the defaults hold). Refused with ``calendar/*`` codes when the week cannot work."""
        calendar = execute(set_hours, SetHours(current_principal(), body["hours"], if_match_versions()))
        return calendar, 200, versioned_headers(calendar["version"])


@blp.route("/calendar/years/<int:year>/official")
class CalendarOfficialYear(MethodView):
    @RIGHTS.guard("manage_calendar", current_principal)
    @blp.response(200, CalendarSchema)
    def post(self, year: int) -> Any:
        """Load the year from the official schedule (park admin), replacing its days; 422
        ``calendar/year-not-covered``, naming the years the source covers, when it lacks it."""
        return execute(load_official_year, LoadOfficialYear(current_principal(), year))


@blp.route("/calendar/years/<int:year>")
class CalendarYear(MethodView):
    @RIGHTS.guard("manage_calendar", current_principal)
    @blp.arguments(YearInSchema)
    @blp.response(200, CalendarSchema)
    def put(self, body: dict[str, Any], year: int) -> Any:
        """Enter the year by hand (park admin) from the State Council's announcement while the
        official source lags: the list replaces every special day of the year (source manual)."""
        days = tuple(DayEntry(d["day"], d["kind"], d.get("name")) for d in body["days"])
        return execute(enter_year, EnterYear(current_principal(), year, days))
