"""The business calendar over HTTP: everyone signed in reads it; park admin sets the weekly hours
(If-Match), loads a year from the official schedule or enters it by hand; the warnings of a year
missing (the coming one from 1 November, park time) in GET /calendar and in /health; the worker's
job that loads the official years the calendar lacks. The official source is pinned to end with
2026 (:func:`tests.test_holidays.cover_only`), whatever the installed package covers; the tests
of a source that covers the coming year pin it to 2027."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from services.consulting.commands.calendar import DayEntry, EnterYear
from services.consulting.handlers import calendar as calendar_handlers
from services.consulting.handlers.calendar import keep_official_years
from services.consulting.models import CalendarDay, CalendarYear
from services.consulting.queries import calendar as calendar_queries
from services.consulting.queries.calendar import DEFAULT_HOURS, load_business_calendar, years_required
from services.consulting.rules import add_business_minutes
from shared.clock import PARK_TZ
from shared.holidays import covered_years, official_days
from tests.consulting.test_cases_postgres import pg  # noqa: F401  (the PostgreSQL fixture)
from tests.consulting.test_sla import principal
from tests.test_holidays import cover_only

ZH = {"Accept-Language": "zh-CN"}
NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)  # Sunday 29 November 2026, noon in the park
LAST = 2026
OUT_OF_SOURCE = 2027


@pytest.fixture(autouse=True)
def park_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(calendar_queries, "utcnow", lambda: NOW)
    return NOW


@pytest.fixture(autouse=True)
def source_ends_2026(monkeypatch: pytest.MonkeyPatch) -> range:
    return cover_only(monkeypatch, LAST)


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.json
    assert response.json["type"].endswith("/" + code), response.json
    body: dict[str, Any] = response.json
    return body


def held(db: Any) -> dict[int, str]:
    with db.reading() as session:
        return {y.year: y.source for y in session.query(CalendarYear)}


# Which years must be held ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "years"),
    [
        (date(2026, 1, 1), (2026,)),
        (date(2026, 10, 31), (2026,)),
        (date(2026, 11, 1), (2026, 2027)),
        (date(2026, 12, 31), (2026, 2027)),
    ],
)
def test_the_coming_year_is_required_from_1_november(today, years):
    assert years_required(today) == years


def test_the_park_s_date_decides_not_utc():
    # 31 October 17:00 UTC is 1 November 01:00 in the park.
    assert calendar_queries.park_today(datetime(2026, 10, 31, 17, 0, tzinfo=UTC)) == date(2026, 11, 1)


# Reading ---------------------------------------------------------------------------------------


def test_everyone_signed_in_reads_the_calendar_with_its_warnings(api):
    for user in ("bob", "lawyer", "desk"):
        assert api.get("/calendar", user=user).status_code == 200
    problem(api.get("/calendar", user=None), 401, "unauthorized")
    calendar = api.get("/calendar", user="alice")
    assert calendar.headers["ETag"] == '"0"'
    body = calendar.json
    assert body["hours"]["0"] == DEFAULT_HOURS["0"] and body["hours"]["6"] == []
    assert body["minutes_per_day"] == 450 and body["minutes_per_week"] == 5 * 450
    assert body["version"] == 0 and body["years"] == [] and body["days"] == []
    assert body["official_years"] == {"first": covered_years().start, "last": LAST}
    assert len(body["warnings"]) == 2  # 2026 and, from 1 November, 2027
    assert body["warnings"][0].startswith("The business calendar has no public holidays for 2026")
    assert "Load 2026 from the official schedule" in body["warnings"][0]
    zh = api.get("/calendar", user="alice", headers=ZH).json
    assert zh["warnings"][0].startswith("工作日历中没有 2026 年的法定节假日")  # needs the catalogue merged


def test_unknown_query_parameters_and_years_out_of_range_are_refused(api):
    problem(api.get("/calendar?month=5", user="alice"), 400, "unknown-parameter")
    assert api.get("/calendar?year=1850", user="alice").status_code == 422


# Years -----------------------------------------------------------------------------------------


def test_park_admin_loads_a_year_from_the_official_schedule(api, db):
    loaded = api.post(f"/calendar/years/{LAST}/official", user="admin")
    assert loaded.status_code == 200, loaded.json
    body = loaded.json
    assert [y["year"] for y in body["years"]] == [LAST]
    year = body["years"][0]
    assert year["source"] == "chinesecalendar" and year["loaded_by"] == "user:admin"
    assert year["holidays"] + year["workdays"] == len(official_days(LAST)) == len(body["days"])
    assert year["source_label"] == "The official schedule (chinesecalendar)"
    national = next(d for d in body["days"] if d["day"] == f"{LAST}-10-01")
    assert national["kind"] == "holiday" and national["name"] == "national_day"
    assert national["name_label"] == "National Day" and national["kind_label"] == "Public holiday"
    assert held(db) == {LAST: "chinesecalendar"}
    with db.reading() as session:
        assert load_business_calendar(session).covers(LAST)
    assert loaded.headers["ETag"] == '"1"' == f'"{year["version"]}"'
    # Loading again replaces, it does not add; the year is held now, so under If-Match.
    problem(api.post(f"/calendar/years/{LAST}/official", user="admin"), 428, "precondition-required")
    again = api.post(f"/calendar/years/{LAST}/official", user="admin", **{"If-Match": '"1"'})
    assert again.json["years"][0]["holidays"] == year["holidays"] and again.headers["ETag"] == '"2"'


def test_a_year_the_source_lacks_is_422_naming_what_it_covers(api, db):
    body = problem(
        api.post(f"/calendar/years/{OUT_OF_SOURCE}/official", user="admin"), 422, "calendar/year-not-covered"
    )
    assert body["covered_years"] == [covered_years().start, LAST]
    problem(api.post("/calendar/years/1999/official", user="admin"), 422, "calendar/year")
    assert held(db) == {}


def test_only_park_admin_changes_the_calendar(api):
    for user in ("desk", "alice", "lawyer"):
        problem(api.post(f"/calendar/years/{LAST}/official", user=user), 403, "forbidden")
        problem(api.put(f"/calendar/years/{LAST}", {"days": []}, user=user), 403, "forbidden")
        problem(api.put("/calendar/hours", {"hours": DEFAULT_HOURS}, user=user, **{"If-Match": "*"}), 403, "forbidden")


MANUAL_DAYS = [
    {"day": f"{OUT_OF_SOURCE}-01-01", "kind": "holiday", "name": "new_years_day"},
    {"day": f"{OUT_OF_SOURCE}-10-01", "kind": "holiday", "name": "national_day"},
]


def test_park_admin_enters_a_year_by_hand_replacing_its_days(api, db):
    entered = api.put(f"/calendar/years/{OUT_OF_SOURCE}", {"days": MANUAL_DAYS}, user="admin")
    assert entered.status_code == 200, entered.json
    year = entered.json["years"][0]
    assert year == {**year, "year": OUT_OF_SOURCE, "source": "manual", "holidays": 2, "workdays": 0}
    assert year["source_label"] == "Entered by hand"
    replaced = api.put(
        f"/calendar/years/{OUT_OF_SOURCE}", {"days": MANUAL_DAYS[:1]}, user="admin", **{"If-Match": '"1"'}
    ).json
    assert [d["day"] for d in replaced["days"]] == [f"{OUT_OF_SOURCE}-01-01"]
    api.post(f"/calendar/years/{LAST}/official", user="admin")
    assert held(db) == {OUT_OF_SOURCE: "manual", LAST: "chinesecalendar"}
    only = api.get(f"/calendar?year={OUT_OF_SOURCE}", user="bob").json
    assert {d["year"] for d in only["days"]} == {OUT_OF_SOURCE}


def test_a_held_year_changes_only_under_if_match_with_its_etag(api, db):
    body = {"days": MANUAL_DAYS}
    unheld = api.get(f"/calendar/years/{OUT_OF_SOURCE}", user="bob")
    assert unheld.status_code == 200 and unheld.headers["ETag"] == '"0"' and unheld.json["days"] == []
    # A year not held yet may be entered without If-Match, or with "0"; "1" is stale.
    problem(
        api.put(f"/calendar/years/{OUT_OF_SOURCE}", body, user="admin", **{"If-Match": '"1"'}),
        412,
        "precondition-failed",
    )
    entered = api.put(f"/calendar/years/{OUT_OF_SOURCE}", body, user="admin", **{"If-Match": '"0"'})
    assert entered.status_code == 200 and entered.headers["ETag"] == '"1"'
    read = api.get(f"/calendar/years/{OUT_OF_SOURCE}", user="alice")
    assert read.headers["ETag"] == '"1"' and len(read.json["days"]) == 2
    assert api.get("/calendar", user="bob").json["years"][0]["version"] == 1
    # Held now: without If-Match 428, stale 412, nothing written either way.
    problem(api.put(f"/calendar/years/{OUT_OF_SOURCE}", {"days": []}, user="admin"), 428, "precondition-required")
    problem(
        api.put(f"/calendar/years/{OUT_OF_SOURCE}", {"days": []}, user="admin", **{"If-Match": '"0"'}),
        412,
        "precondition-failed",
    )
    problem(
        api.post(f"/calendar/years/{LAST}/official", user="admin", **{"If-Match": '"7"'}), 412, "precondition-failed"
    )
    assert len(api.get(f"/calendar/years/{OUT_OF_SOURCE}", user="bob").json["days"]) == 2
    assert held(db) == {OUT_OF_SOURCE: "manual"}
    changed = api.put(f"/calendar/years/{OUT_OF_SOURCE}", {"days": []}, user="admin", **{"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    problem(api.get("/calendar/years/1850", user="bob"), 422, "calendar/year")


def test_a_nul_in_a_day_s_name_is_a_field_error(api, db):
    day = {"day": f"{OUT_OF_SOURCE}-10-01", "kind": "holiday", "name": "national\x00day"}
    refused = api.put(f"/calendar/years/{OUT_OF_SOURCE}", {"days": [day]}, user="admin")
    assert refused.status_code == 422, refused.json
    assert refused.json["errors"]["days"]["0"]["name"] == ["The text holds a NUL character."]
    assert held(db) == {}


def weekday_of(year: int, weekday: int) -> str:
    day = date(year, 3, 1)
    while day.weekday() != weekday:
        day = day.replace(day=day.day + 1)
    return day.isoformat()


@pytest.mark.parametrize(
    ("days", "code"),
    [
        ([{"day": f"{OUT_OF_SOURCE + 1}-01-01", "kind": "holiday"}], "calendar/special-day"),
        ([MANUAL_DAYS[0], MANUAL_DAYS[0]], "calendar/special-day"),
        ([{"day": weekday_of(OUT_OF_SOURCE, 2), "kind": "workday"}], "calendar/special-day"),
    ],
)
def test_a_year_entered_wrong_is_refused_and_nothing_written(api, db, days, code):
    problem(api.put(f"/calendar/years/{OUT_OF_SOURCE}", {"days": days}, user="admin"), 422, code)
    assert held(db) == {}


def test_a_make_up_working_day_on_a_weekend_is_accepted(api):
    saturday = weekday_of(OUT_OF_SOURCE, 5)
    body = api.put(f"/calendar/years/{OUT_OF_SOURCE}", {"days": [{"day": saturday, "kind": "workday"}]}, user="admin")
    assert body.json["years"][0]["workdays"] == 1
    bad = api.put(
        f"/calendar/years/{OUT_OF_SOURCE}",
        {"days": [{"day": "someday", "kind": "holiday"}]},
        user="admin",
        **{"If-Match": "*"},
    )
    assert bad.status_code == 422 and bad.json["errors"]


# Hours -----------------------------------------------------------------------------------------


def test_park_admin_sets_the_weekly_hours_under_if_match(api, db):
    hours = {str(d): [["08:30", "12:00"], ["13:00", "17:30"]] for d in range(5)} | {"5": [["09:00", "12:00"]]}
    problem(api.put("/calendar/hours", {"hours": hours}, user="admin"), 428, "precondition-required")
    problem(
        api.put("/calendar/hours", {"hours": hours}, user="admin", **{"If-Match": '"3"'}), 412, "precondition-failed"
    )
    changed = api.put("/calendar/hours", {"hours": hours}, user="admin", **{"If-Match": '"0"'})
    assert changed.status_code == 200, changed.json
    assert changed.headers["ETag"] == '"1"' and changed.json["updated_by"] == "user:admin"
    assert changed.json["minutes_per_day"] == 480 and changed.json["hours"]["5"] == [["09:00", "12:00"]]
    with db.reading() as session:
        calendar = load_business_calendar(session)
    monday_8_30 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # 08:30 in the park: now working time
    assert add_business_minutes(monday_8_30, 30, calendar) == datetime(2026, 11, 30, 9, 0, tzinfo=PARK_TZ)
    assert api.get("/calendar", user="bob").json["version"] == 1
    again = api.put("/calendar/hours", {"hours": DEFAULT_HOURS}, user="admin", **{"If-Match": '"1"'})
    assert again.json["version"] == 2 and again.json["minutes_per_day"] == 450


@pytest.mark.parametrize(
    ("hours", "status", "code"),
    [
        ({}, 422, "calendar/no-working-time"),
        ({"0": [["09:00", "12:00"], ["11:00", "14:00"]]}, 422, "calendar/periods-overlap"),
        ({"0": [["12:00", "09:00"]]}, 422, "calendar/period-invalid"),
    ],
)
def test_a_week_that_cannot_work_is_refused(api, hours, status, code):
    problem(api.put("/calendar/hours", {"hours": hours}, user="admin", **{"If-Match": '"0"'}), status, code)
    assert api.get("/calendar", user="bob").json["version"] == 0


@pytest.mark.parametrize(
    "hours", [{"7": [["09:00", "12:00"]]}, {"0": [["9:00", "12:00"]]}, {"0": [["09:00"]]}, {"0": "09:00-12:00"}]
)
def test_malformed_hours_are_field_errors(api, hours):
    response = api.put("/calendar/hours", {"hours": hours}, user="admin", **{"If-Match": '"0"'})
    assert response.status_code == 422 and response.json["errors"]


# The worker's job ------------------------------------------------------------------------------


def test_the_job_loads_the_official_years_the_calendar_lacks_once(db):
    with db.unit_of_work() as uow:
        assert keep_official_years(uow=uow, now=datetime(LAST - 1, 6, 1, tzinfo=UTC)) == 2
        uow.commit()
    assert held(db) == {LAST - 1: "chinesecalendar", LAST: "chinesecalendar"}
    with db.unit_of_work() as uow:
        assert keep_official_years(uow=uow, now=datetime(LAST - 1, 6, 2, tzinfo=UTC)) == 0
        uow.commit()


def test_the_job_never_overwrites_a_year_entered_by_hand(api, db):
    api.put(f"/calendar/years/{LAST}", {"days": [{"day": f"{LAST}-10-01", "kind": "holiday"}]}, user="admin")
    with db.unit_of_work() as uow:
        assert keep_official_years(uow=uow, now=datetime(LAST, 3, 1, tzinfo=UTC)) == 0
        uow.commit()
    assert held(db) == {LAST: "manual"}
    assert len(api.get(f"/calendar?year={LAST}", user="bob").json["days"]) == 1


def test_the_job_claims_a_year_park_admin_entered_meanwhile_and_skips_it(pg, monkeypatch):  # noqa: F811
    """PostgreSQL: park admin's PUT of a year commits while the job runs, after it listed the
    years to load; the job's insert of the year's row meets park admin's and leaves it alone."""
    cover_only(monkeypatch, LAST)
    real = calendar_handlers.covered_years

    def covered_while_admin_enters_2026() -> range:
        with pg.unit_of_work() as uow:
            day = DayEntry(date(2026, 10, 1), "holiday", "national_day")
            calendar_handlers.enter_year(EnterYear(principal("admin"), 2026, (day,)), uow=uow)
            uow.commit()
        return real()

    monkeypatch.setattr(calendar_handlers, "covered_years", covered_while_admin_enters_2026)
    with pg.unit_of_work() as uow:
        assert keep_official_years(uow=uow, now=NOW) == 0
        uow.commit()
    assert held(pg) == {2026: "manual"}
    with pg.reading() as session:
        assert session.scalars(select(CalendarDay.day).where(CalendarDay.year == 2026)).all() == [date(2026, 10, 1)]


def test_the_job_skips_past_years_and_loads_nothing_beyond_the_source(db):
    with db.unit_of_work() as uow:
        assert keep_official_years(uow=uow, now=datetime(OUT_OF_SOURCE, 1, 5, tzinfo=UTC)) == 0
        uow.commit()
    assert held(db) == {}


# Health ----------------------------------------------------------------------------------------


def test_health_warns_while_a_required_year_is_missing_and_stays_ok(api):
    health = api.get("/health", user=None)
    assert health.status_code == 200 and health.json["status"] == "ok"
    assert health.json["warnings"] == [
        "The business calendar has no public holidays for 2026: the SLA clocks count them as working time. "
        "Load 2026 from the official schedule.",
        "The business calendar has no public holidays for 2027, and the official source covers only up to 2026: "
        "enter 2027 by hand once the State Council has published it.",
    ]
    zh = api.get("/health", user=None, headers=ZH).json
    assert zh["warnings"][0].startswith("工作日历中没有 2026 年的法定节假日")  # needs the catalogue merged

    api.post("/calendar/years/2026/official", user="admin")
    api.put("/calendar/years/2027", {"days": [{"day": "2027-01-01", "kind": "holiday"}]}, user="admin")
    assert api.get("/health", user=None).json["warnings"] == []


def test_health_asks_to_load_the_coming_year_once_the_source_covers_it(api, monkeypatch):
    cover_only(monkeypatch, 2027)
    api.post("/calendar/years/2026/official", user="admin")
    assert api.get("/health", user=None).json["warnings"] == [
        "The business calendar has no public holidays for 2027: the SLA clocks count them as working time. "
        "Load 2027 from the official schedule."
    ]
    assert api.post("/calendar/years/2027/official", user="admin").status_code == 200
    assert api.get("/health", user=None).json["warnings"] == []


def test_health_in_october_needs_only_this_year(api, monkeypatch):
    monkeypatch.setattr(calendar_queries, "utcnow", lambda: datetime(2026, 10, 31, 15, 59, tzinfo=UTC))  # 23:59
    api.post("/calendar/years/2026/official", user="admin")
    assert api.get("/health", user=None).json["warnings"] == []
    monkeypatch.setattr(calendar_queries, "utcnow", lambda: datetime(2026, 10, 31, 16, 0, tzinfo=UTC))  # 1 Nov
    assert len(api.get("/health", user=None).json["warnings"]) == 1


def test_a_failing_health_check_is_a_warning_not_an_outage(api, monkeypatch):
    def broken(session: Any) -> list[int]:
        raise RuntimeError("boom")

    monkeypatch.setattr(calendar_queries, "held_years", broken)
    health = api.get("/health", user=None)
    assert health.status_code == 200 and health.json["status"] == "ok"
    assert health.json["warnings"] == ["The health check calendar_health failed."]
