"""``/calendar``: the business calendar the SLA clocks count in. Everyone signed in reads it;
park admin sets the weekly hours and loads or enters the years' public holidays and make-up
working days. Consulting's ``/health`` warns while a year the calendar should hold is missing."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from services.consulting.api.schemas.calendar import CalendarQuerySchema, CalendarSchema, HoursInSchema, YearInSchema
from services.consulting.commands.calendar import (
    WITHOUT_IF_MATCH,
    DayEntry,
    EnterYear,
    LoadOfficialYear,
    SetHours,
    YearVersions,
)
from services.consulting.handlers.calendar import YEAR_CODE, enter_year, load_official_year, set_hours
from services.consulting.permissions import RIGHTS
from services.consulting.queries.calendar import calendar_health, calendar_view, park_today
from shared.holidays import check_year
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.ops import add_health_check
from shared.http.preconditions import IF_MATCH, etag_header, if_match_versions, versioned_headers
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


def _year_versions() -> YearVersions:
    """``If-Match`` of a year's change: required once the year is held (the year's ``ETag``);
    a year not held yet may be written without it."""
    return if_match_versions() if request.headers.get("If-Match") else WITHOUT_IF_MATCH


@blp.route("/calendar/years/<int:year>/official")
class CalendarOfficialYear(MethodView):
    @RIGHTS.guard("manage_calendar", current_principal)
    @blp.response(200, CalendarSchema, headers={"ETag": etag_header("the year's version")})
    @blp.doc(parameters=[{**IF_MATCH, "required": False}])
    def post(self, year: int) -> Any:
        """Load the year from the official schedule (park admin), replacing its days; 422
        ``calendar/year-not-covered``, naming the years the source covers, when it lacks it.
        ``If-Match`` with the year's ``ETag`` once the year is held (428 without, 412 stale)."""
        calendar = execute(load_official_year, LoadOfficialYear(current_principal(), year, _year_versions()))
        return calendar, 200, versioned_headers(_version_of(calendar, year))


@blp.route("/calendar/years/<int:year>")
class CalendarYear(MethodView):
    @RIGHTS.guard("read_calendar", current_principal)
    @blp.response(200, CalendarSchema, headers={"ETag": etag_header('the year\'s version; "0" while not held')})
    def get(self, year: int) -> Any:
        """The calendar with the year's special days only; ``ETag``: the year's version (``"0"``
        while the calendar does not hold it), the ``If-Match`` of its changes."""
        check_year(year, code=YEAR_CODE)
        with reading() as session:
            calendar = calendar_view(session, park_today(), year)
        return calendar, 200, versioned_headers(_version_of(calendar, year))

    @RIGHTS.guard("manage_calendar", current_principal)
    @blp.arguments(YearInSchema)
    @blp.response(200, CalendarSchema, headers={"ETag": etag_header("the year's version")})
    @blp.doc(parameters=[{**IF_MATCH, "required": False}])
    def put(self, body: dict[str, Any], year: int) -> Any:
        """Enter the year by hand (park admin) from the State Council's announcement while the
        official source lags: the list replaces every special day of the year (source manual).
        ``If-Match`` with the year's ``ETag`` once the year is held (428 without, 412 stale)."""
        days = tuple(DayEntry(d["day"], d["kind"], d.get("name")) for d in body["days"])
        calendar = execute(enter_year, EnterYear(current_principal(), year, days, _year_versions()))
        return calendar, 200, versioned_headers(_version_of(calendar, year))


def _version_of(calendar: dict[str, Any], year: int) -> int:
    return next((y["version"] for y in calendar["years"] if y["year"] == year), 0)
