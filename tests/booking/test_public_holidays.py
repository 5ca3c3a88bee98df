"""Holiday closures: a space that closes on public holidays is closed on the park's holidays and
open on its make-up working days; the park's calendar is loaded from China's official schedule or
entered by hand (``/park-calendar``); spaces that do not close on holidays are unaffected.

The official source covers years up to 2026 and the tests run on any date, so the HTTP tests
enter the days they need (relative to today) by hand, as park admin does while the source lags;
the rules are also tested pure, on fixed dates."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from services.booking.models import AdminChange, ParkDay
from services.booking.rules import Interval, SpacePolicy, check_request, free_intervals, parse_opening_hours
from services.booking.rules.intervals import ParkDate, opening_intervals
from services.booking.seed import STAFFED, seed
from shared.clock import PARK_TZ
from shared.errors import RuleViolation
from shared.holidays import HOLIDAY, WORKDAY, covered_years, official_days
from tests.booking import factories
from tests.booking.conftest import at, park_day
from tests.test_holidays import cover_only

ZH = {"Accept-Language": "zh-CN"}
WEEKDAYS_ONLY = {d: [["09:00", "18:00"]] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}
EVERYONE = ("alice", "bob", "carol", "dave", "desk", "admin", "bank")


def first_after(days_ahead: int, weekdays: tuple[int, ...]) -> date:
    day = park_day(days_ahead)
    while day.weekday() not in weekdays:
        day += timedelta(days=1)
    return day


def enter(api: Any, days: dict[date, tuple[str, str | None]], user: str = "admin") -> list[Any]:
    """Enter the park's special days by hand, one PUT per year (park admin)."""
    years: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for day, (kind, name) in days.items():
        years[day.year].append({"date": day.isoformat(), "kind": kind, "name": name})
    return [api.put(f"/park-calendar/{year}", {"days": listed}, user=user) for year, listed in years.items()]


def count_days(db: Any) -> int:
    with db.reading() as session:
        return session.execute(select(func.count()).select_from(ParkDay)).scalar_one()


# The rules, pure -------------------------------------------------------------------------------

NOW = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)
GOLDEN_WEEK = {date(2026, 10, n): ParkDate(HOLIDAY, "national_day") for n in range(1, 8)} | {
    date(2026, 10, 10): ParkDate(WORKDAY, "national_day")  # a Saturday
}


def hall(**overrides: Any) -> SpacePolicy:
    values: dict[str, Any] = {
        "capacity": 100,
        "layouts": {},
        "opening_hours": parse_opening_hours(WEEKDAYS_ONLY),
        "slot_minutes": 30,
        "min_duration_minutes": 60,
        "max_duration_minutes": 600,
        "lead_time_minutes": 60,
        "horizon_days": 365,
    }
    values.update(overrides)
    return SpacePolicy(**values)


def park(day: date, clock: str) -> datetime:
    return at(day, clock)


def test_a_holiday_closes_the_day_and_a_make_up_saturday_opens_with_monday_hours() -> None:
    hours = parse_opening_hours({"monday": [["08:00", "20:00"]], "tuesday": [["09:00", "18:00"]]})
    national_day = Interval(park(date(2026, 10, 5), "00:00"), park(date(2026, 10, 6), "00:00"))  # a Monday
    assert opening_intervals(hours, national_day) == [
        Interval(park(date(2026, 10, 5), "08:00"), park(date(2026, 10, 5), "20:00"))
    ]
    assert opening_intervals(hours, national_day, GOLDEN_WEEK) == []
    saturday = Interval(park(date(2026, 10, 10), "00:00"), park(date(2026, 10, 11), "00:00"))
    assert opening_intervals(hours, saturday) == []
    assert opening_intervals(hours, saturday, GOLDEN_WEEK) == [
        Interval(park(date(2026, 10, 10), "08:00"), park(date(2026, 10, 10), "20:00"))
    ]
    # A make-up day on a space without weekday hours keeps its own (weekend) hours.
    weekend_only = parse_opening_hours({"saturday": [["10:00", "12:00"]]})
    assert opening_intervals(weekend_only, saturday, GOLDEN_WEEK) == [
        Interval(park(date(2026, 10, 10), "10:00"), park(date(2026, 10, 10), "12:00"))
    ]


def test_booking_on_a_holiday_is_refused_naming_it_and_a_space_without_the_calendar_is_unaffected() -> None:
    usage = Interval(park(date(2026, 10, 2), "10:00"), park(date(2026, 10, 2), "12:00"))  # Friday, a holiday
    check_request(hall(), usage, attendees=10, layout=None, now=NOW)  # no calendar: an ordinary Friday
    with pytest.raises(RuleViolation) as caught:
        check_request(hall(park_days=GOLDEN_WEEK), usage, attendees=10, layout=None, now=NOW)
    assert caught.value.code == "rule/space-closed"
    assert caught.value.extra == {"public_holiday": {"date": "2026-10-02", "name": "national_day"}}
    assert str(caught.value.detail) == (
        "The space is closed on 2026-10-02, a public holiday (National Day), setup and cleanup included."
    )


def test_setup_and_cleanup_may_not_reach_into_a_holiday() -> None:
    policy = hall(park_days=GOLDEN_WEEK, opening_hours=parse_opening_hours({"wednesday": [["00:00", "24:00"]]}))
    evening = Interval(park(date(2026, 9, 30), "20:00"), park(date(2026, 9, 30), "22:00"))  # Wednesday before
    check_request(policy, evening, attendees=10, layout=None, now=NOW)
    with pytest.raises(RuleViolation) as caught:
        check_request(hall(**{**policy.__dict__, "cleanup_minutes": 180}), evening, attendees=10, layout=None, now=NOW)
    assert caught.value.extra["public_holiday"]["date"] == "2026-10-01"


def test_free_intervals_skip_the_holiday_and_offer_the_make_up_day() -> None:
    window = Interval(park(date(2026, 10, 1), "00:00"), park(date(2026, 10, 12), "00:00"))
    free = free_intervals(hall(park_days=GOLDEN_WEEK), window, holds=[], closures=[], now=NOW)
    days = [f.start.astimezone(PARK_TZ).date() for f in free]
    assert days == [date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]
    assert free[2] == Interval(park(date(2026, 10, 10), "09:00"), park(date(2026, 10, 10), "18:00"))
    plain = free_intervals(hall(), window, holds=[], closures=[], now=NOW)
    assert [f.start.astimezone(PARK_TZ).date().day for f in plain] == [1, 2, 5, 6, 7, 8, 9]


def test_the_official_days_drive_the_rules_as_the_seed_loads_them() -> None:
    calendar = {d.day: ParkDate(d.kind, d.name) for d in official_days(2026)}
    assert calendar[date(2026, 10, 1)] == ParkDate(HOLIDAY, "national_day")
    labour_day = Interval(park(date(2026, 5, 1), "10:00"), park(date(2026, 5, 1), "11:00"))
    with pytest.raises(RuleViolation):
        check_request(
            hall(park_days=calendar), labour_day, attendees=1, layout=None, now=datetime(2026, 4, 1, tzinfo=UTC)
        )
    make_up = Interval(park(date(2026, 5, 9), "10:00"), park(date(2026, 5, 9), "11:00"))  # Saturday 9 May
    check_request(hall(park_days=calendar), make_up, attendees=1, layout=None, now=datetime(2026, 4, 1, tzinfo=UTC))


# The park's calendar over HTTP ----------------------------------------------------------------


def test_everyone_signed_in_reads_the_calendar_and_nobody_else(api):
    for user in EVERYONE:
        response = api.get("/park-calendar?year=2026", user=user)
        assert response.status_code == 200, (user, response.json)
        assert response.json["covered_years"][0] == 2004
        assert response.json["covered_years"][-1] == covered_years().stop - 1
    assert api.get("/park-calendar", user=None).status_code == 401
    assert api.get("/park-calendar?year=1999").status_code == 422
    assert api.get("/park-calendar?yaer=2026").status_code == 400  # unknown parameters are refused


@pytest.mark.parametrize("user", ["alice", "bob", "carol", "dave", "desk", "bank"])
def test_only_park_admin_loads_or_enters_a_year(api, db, user):
    assert api.post("/park-calendar/2026/load", user=user).status_code == 403
    day = {"date": "2026-12-31", "kind": "holiday", "name": None}
    assert api.put("/park-calendar/2026", {"days": [day]}, user=user).status_code == 403
    assert api.get("/park-calendar/history", user=user).status_code == (200 if user == "desk" else 403)
    assert count_days(db) == 0


def test_park_admin_loads_a_covered_year_from_the_official_schedule(api, db):
    response = api.post("/park-calendar/2026/load", user="admin")
    assert response.status_code == 200, response.json
    days = {d["date"]: d for d in response.json["days"]}
    assert len(days) == len(official_days(2026))
    assert days["2026-10-01"] | {"updated_at": None} == {
        "date": "2026-10-01",
        "kind": "holiday",
        "kind_label": "Public holiday",
        "name": "national_day",
        "name_label": "National Day",
        "source": "chinesecalendar",
        "updated_at": None,
    }
    assert days["2026-10-10"]["kind"] == "workday"
    assert 2026 in response.json["loaded_years"]
    # Loading again replaces the year, it does not add to it.
    assert api.post("/park-calendar/2026/load", user="admin").status_code == 200
    assert count_days(db) == len(official_days(2026))
    zh = api.get("/park-calendar?year=2026", headers=ZH).json
    national = next(d for d in zh["days"] if d["date"] == "2026-10-01")
    assert (national["kind_label"], national["name_label"]) == ("法定节假日", "国庆节")
    history = api.get("/park-calendar/history", user="desk").json["items"]
    assert [(h["entity"], h["entity_id"], h["action"]) for h in history] == [("park_calendar", "2026", "load")] * 2
    assert history[0]["details"]["holidays"] + history[0]["details"]["workdays"] == len(official_days(2026))


def test_a_year_the_source_lacks_is_a_422_naming_the_covered_years_and_writes_nothing(api, db):
    missing = covered_years().stop
    response = api.post(f"/park-calendar/{missing}/load", user="admin")
    assert response.status_code == 422
    assert response.json["type"].endswith("/calendar/year-not-covered")
    assert response.json["covered_years"] == [2004, missing - 1]
    assert f"2004–{missing - 1}" in response.json["detail"]
    zh = api.post(f"/park-calendar/{missing}/load", user="admin", **ZH)
    assert "手动录入" in zh.json["detail"]
    assert count_days(db) == 0
    with db.reading() as session:
        assert session.execute(select(func.count()).select_from(AdminChange)).scalar_one() == 0
    assert api.post("/park-calendar/1999/load", user="admin").status_code == 422


def test_park_admin_enters_a_year_by_hand_and_the_warning_about_next_year_goes(api, db):
    today = datetime.now(PARK_TZ).date()
    coming = today.year + 1
    before = api.get("/park-calendar").json
    assert before["next_year"] == coming and before["next_year_loaded"] is False
    assert any(str(coming) in w for w in before["warnings"])
    zh = api.get("/park-calendar", headers=ZH).json
    assert any("园区日历尚无" in w for w in zh["warnings"])

    new_year = date(coming, 1, 1)
    make_up = next(date(coming, 1, n) for n in range(2, 15) if date(coming, 1, n).weekday() == 5)
    days = [
        {"date": new_year.isoformat(), "kind": "holiday", "name": "new_years_day"},
        {"date": make_up.isoformat(), "kind": "workday", "name": "Make-up day for New Year"},
    ]
    response = api.put(f"/park-calendar/{coming}", {"days": days}, user="admin")
    assert response.status_code == 200, response.json
    assert [(d["date"], d["kind"], d["source"]) for d in response.json["days"]] == [
        (new_year.isoformat(), "holiday", "manual"),
        (make_up.isoformat(), "workday", "manual"),
    ]
    # A typed name is shown as typed; a festival's code by its label.
    assert [d["name_label"] for d in response.json["days"]] == ["New Year's Day", "Make-up day for New Year"]
    after = api.get("/park-calendar", user="bob").json
    assert after["next_year_loaded"] is True
    assert not any(str(coming) in w for w in after["warnings"])
    # The list replaces the year: an empty list empties it.
    assert api.put(f"/park-calendar/{coming}", {"days": []}, user="admin").json["days"] == []
    history = api.get("/park-calendar/history", user="admin").json["items"]
    assert [h["action"] for h in history] == ["enter", "enter"]
    assert api.get("/park-calendar/history", user="admin", headers=ZH).json["items"][0]["action_label"] == "手动录入"


@pytest.mark.parametrize("source_has_next_year", [False, True])
def test_the_warning_about_next_year_says_whether_to_load_it_or_enter_it(api, db, monkeypatch, source_has_next_year):
    """Next year missing from the park's calendar: "load it" once the official source has it,
    "enter it by hand" while it does not (as with 2027 in 2026). Tested on a source ending where
    the test says, not where the installed chinesecalendar happens to end."""
    this_year = datetime.now(PARK_TZ).year
    coming = this_year + 1
    source = cover_only(monkeypatch, coming if source_has_next_year else this_year)
    en = api.get(f"/park-calendar?year={coming}", user="bob").json
    zh = api.get(f"/park-calendar?year={coming}", user="bob", headers=ZH).json
    assert en["covered_years"] == list(source)
    assert (en["next_year"], en["next_year_loaded"]) == (coming, False)
    [warning], [warning_zh] = en["warnings"], zh["warnings"]
    if source_has_next_year:
        assert warning == f"The park's calendar has no days for {coming} yet: load them from the official schedule."
        assert api.post(f"/park-calendar/{coming}/load", user="admin").status_code == 200
        assert api.get(f"/park-calendar?year={coming}", user="bob").json["warnings"] == []
    else:
        assert warning == (
            f"The park's calendar has no days for {coming}, and the official source covers only up to {this_year}: "
            f"enter {coming} by hand once the State Council has published it."
        )
        assert str(coming) in warning_zh and "手动" in warning_zh
        refused = api.post(f"/park-calendar/{coming}/load", user="admin")
        assert refused.status_code == 422
        assert refused.json["covered_years"] == [source.start, this_year]


@pytest.mark.parametrize(
    ("day", "why"),
    [
        ({"date": "2027-01-01", "kind": "holiday"}, "rule/park-calendar"),  # not in 2026
        ({"date": "2026-12-30", "kind": "workday"}, "rule/park-calendar"),  # a Wednesday
        ({"date": "2026-12-30", "kind": "day_off"}, "validation"),
        ({"date": "2026-13-01", "kind": "holiday"}, "validation"),
        ({"date": "2026-12-30", "kind": "holiday", "name": ""}, "validation"),
        ({"date": "2026-12-30", "kind": "holiday", "name": "x" * 101}, "validation"),
        ({"kind": "holiday"}, "validation"),
    ],
)
def test_bad_days_are_refused_whole_and_nothing_is_written(api, db, day, why):
    good = {"date": "2026-12-31", "kind": "holiday", "name": "new_years_eve"}
    response = api.put("/park-calendar/2026", {"days": [good, day]}, user="admin")
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"].startswith("application/problem+json")
    if why != "validation":
        assert response.json["type"].endswith(why)
    assert count_days(db) == 0


def test_a_day_listed_twice_and_a_year_out_of_range_are_refused(api, db):
    twice = [{"date": "2026-12-31", "kind": "holiday"}, {"date": "2026-12-31", "kind": "workday"}]
    response = api.put("/park-calendar/2026", {"days": twice}, user="admin", **ZH)
    assert response.status_code == 422
    assert response.json["detail"] == "2026-12-31 重复列出。"
    assert api.put("/park-calendar/2101", {"days": []}, user="admin").status_code == 422
    assert api.put("/park-calendar/2026", {"days": "none"}, user="admin").status_code == 422
    assert count_days(db) == 0


# Closures over HTTP ----------------------------------------------------------------------------


@pytest.fixture
def holiday(api) -> date:
    """A weekday some days ahead, entered as a public holiday (National Day, for the name)."""
    day = first_after(5, (0, 1, 2, 3, 4))
    assert all(r.status_code == 200 for r in enter(api, {day: ("holiday", "national_day")}))
    return day


def test_a_space_that_closes_on_holidays_refuses_the_holiday_and_one_that_does_not_takes_it(api, holiday):
    closing = factories.SpaceFactory(closes_on_public_holidays=True)
    open_all_year = factories.SpaceFactory()
    refused = api.book(closing.id, at(holiday, "10:00"), at(holiday, "11:00"))
    assert refused.status_code == 422, refused.json
    assert refused.json["type"].endswith("/rule/space-closed")
    assert refused.json["public_holiday"] == {"date": holiday.isoformat(), "name": "national_day"}
    assert "National Day" in refused.json["detail"]
    chinese = api.client.post(
        "/api/v1/booking/reservations",
        json={
            "space_id": closing.id,
            "start": at(holiday, "10:00").isoformat(),
            "end": at(holiday, "11:00").isoformat(),
            "title": "Board",
            "attendees": 4,
        },
        headers=api.headers("alice", **ZH),
    )
    assert chinese.json["detail"] == (f"该场地在 {holiday.isoformat()}（法定节假日：国庆节）关闭，含准备和清场时间。")
    for user in ("bob", "desk", "admin"):  # staff are bound by it too
        response = api.book(closing.id, at(holiday, "12:00"), at(holiday, "13:00"), user=user)
        assert response.status_code == 422, (user, response.json)
    assert api.book(open_all_year.id, at(holiday, "10:00"), at(holiday, "11:00")).status_code == 201
    day_before = at(holiday - timedelta(days=1), "10:00")
    assert api.book(closing.id, day_before, day_before + timedelta(hours=1)).status_code == 201


def test_a_space_that_closes_on_holidays_opens_on_a_make_up_saturday(api):
    saturday = first_after(5, (5,))
    assert all(r.status_code == 200 for r in enter(api, {saturday: ("workday", "spring_festival")}))
    closing = factories.SpaceFactory(closes_on_public_holidays=True, opening_hours=dict(WEEKDAYS_ONLY))
    weekdays_only = factories.SpaceFactory(opening_hours=dict(WEEKDAYS_ONLY))
    booked = api.book(closing.id, at(saturday, "09:00"), at(saturday, "10:00"))
    assert booked.status_code == 201, booked.json
    refused = api.book(weekdays_only.id, at(saturday, "09:00"), at(saturday, "10:00"))
    assert refused.json["type"].endswith("/rule/opening-hours")
    # Monday's hours, not longer.
    assert api.book(closing.id, at(saturday, "17:30"), at(saturday, "18:30")).status_code == 422


def test_the_timeline_shows_the_holiday_closed_and_the_make_up_day_open(api, holiday):
    saturday = first_after(5, (5,))
    enter(api, {holiday: ("holiday", "national_day"), saturday: ("workday", "national_day")})
    closing = factories.SpaceFactory(closes_on_public_holidays=True, opening_hours=dict(WEEKDAYS_ONLY))
    plain = factories.SpaceFactory(opening_hours=dict(WEEKDAYS_ONLY))
    shut = api.get(f"/spaces/{closing.id}/timeline?date={holiday.isoformat()}").json
    assert (shut["open"], shut["free"]) == ([], [])
    normal = api.get(f"/spaces/{plain.id}/timeline?date={holiday.isoformat()}").json
    assert normal["open"] == [{"start": at(holiday, "09:00").isoformat(), "end": at(holiday, "18:00").isoformat()}]
    made_up = api.get(f"/spaces/{closing.id}/timeline?date={saturday.isoformat()}").json
    assert made_up["open"] == [{"start": at(saturday, "09:00").isoformat(), "end": at(saturday, "18:00").isoformat()}]
    assert made_up["free"] == made_up["open"]
    weekend = api.get(f"/spaces/{plain.id}/timeline?date={saturday.isoformat()}").json
    assert weekend["open"] == []


def test_the_availability_search_follows_the_calendar_only_for_spaces_that_close(api, holiday):
    closing = factories.SpaceFactory(closes_on_public_holidays=True, opening_hours=dict(WEEKDAYS_ONLY))
    plain = factories.SpaceFactory(opening_hours=dict(WEEKDAYS_ONLY))
    window = f"start={at(holiday, '00:00').isoformat()}&end={at(holiday, '23:30').isoformat()}"
    found = api.get(f"/availability?{window}".replace("+", "%2B")).json
    ids = {item["space"]["id"] for item in found["items"]}
    assert plain.id in ids and closing.id not in ids
    next_day = holiday + timedelta(days=1 if holiday.weekday() < 4 else 3)
    window = f"start={at(next_day, '00:00').isoformat()}&end={at(next_day, '23:30').isoformat()}"
    found = api.get(f"/availability?{window}".replace("+", "%2B")).json
    assert {plain.id, closing.id} <= {item["space"]["id"] for item in found["items"]}


def test_a_move_onto_a_holiday_is_refused(api, holiday):
    closing = factories.SpaceFactory(closes_on_public_holidays=True)
    day_before = at(holiday - timedelta(days=1), "10:00")
    booked = api.book(closing.id, day_before, day_before + timedelta(hours=1))
    assert booked.status_code == 201, booked.json
    moved = api.post(
        f"/reservations/{booked.json['id']}/reschedule",
        {"start": at(holiday, "10:00").isoformat(), "end": at(holiday, "11:00").isoformat()},
        **{"If-Match": f'"{booked.json["version"]}"'},
    )
    assert moved.status_code == 422
    assert moved.json["type"].endswith("/rule/space-closed")


def test_a_weekly_series_skips_the_holiday(api):
    holiday = first_after(12, (0, 1, 2, 3, 4))
    enter(api, {holiday: ("holiday", None)})
    closing = factories.SpaceFactory(closes_on_public_holidays=True)
    first = holiday - timedelta(days=7)
    body = {
        "space_id": closing.id,
        "start": at(first, "10:00").isoformat(),
        "end": at(first, "11:00").isoformat(),
        "rrule": "FREQ=WEEKLY;COUNT=3",
        "title": "Weekly",
        "attendees": 4,
        "mode": "skip_conflicts",
    }
    response = api.post("/series", body)
    assert response.status_code == 201, response.json
    outcomes = [(o["start"][:10], o["outcome"]) for o in response.json["occurrences"]]
    assert outcomes == [
        (first.isoformat(), "booked"),
        (holiday.isoformat(), "refused"),
        ((holiday + timedelta(days=7)).isoformat(), "booked"),
    ]
    refused = response.json["occurrences"][1]["problem"]
    assert refused["code"] == "rule/space-closed"
    assert (
        refused["detail"]
        == f"The space is closed on {holiday.isoformat()}, a public holiday, setup and cleanup included."
    )


def test_the_utilisation_report_counts_a_closing_spaces_open_hours_by_the_calendar(api, holiday):
    """Open hours, the report's denominator, follow the park's calendar for a space that closes on
    holidays (none on the holiday, a weekday's on a make-up Saturday) and its week for the others."""
    saturday = first_after(5, (5,))
    enter(api, {holiday: ("holiday", "national_day"), saturday: ("workday", "national_day")})
    closing = factories.SpaceFactory(closes_on_public_holidays=True, opening_hours=dict(WEEKDAYS_ONLY))
    plain = factories.SpaceFactory(opening_hours=dict(WEEKDAYS_ONLY))
    factories.ReservationFactory(space=closing, start=at(saturday, "09:00"), minutes=180, status="completed")

    def open_hours(first: date, last: date) -> dict[str, Any]:
        report = api.get(f"/reports/utilisation?from={first}&to={last}", user="admin").json
        return {row["code"]: (row["open_hours"], row["utilisation"]) for row in report["spaces"]}

    on_the_holiday = open_hours(holiday, holiday)
    assert on_the_holiday[closing.code] == (0, None)  # nothing open, nothing to divide by
    assert on_the_holiday[plain.code] == (9, 0)
    on_the_saturday = open_hours(saturday, saturday)
    assert on_the_saturday[closing.code] == (9, round(3 / 9, 4))
    assert on_the_saturday[plain.code] == (0, None)
    first, last = min(holiday, saturday), max(holiday, saturday)
    weekdays = sum(1 for n in range((last - first).days + 1) if (first + timedelta(days=n)).weekday() < 5)
    both = open_hours(first, last)
    assert both[plain.code][0] == 9 * weekdays
    assert both[closing.code][0] == 9 * weekdays  # a weekday closed, a Saturday opened
    csv_text = api.get(f"/reports/utilisation.csv?from={holiday}&to={holiday}", user="admin").get_data(as_text=True)
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(csv_text)) if row["level"] == "space"}
    assert (float(rows[closing.code]["open_hours"]), float(rows[plain.code]["open_hours"])) == (0, 9)


# The seed -------------------------------------------------------------------------------------


def test_the_seed_marks_the_staffed_halls_and_loads_the_official_years_from_this_one(settings, api, db):
    lines = seed(settings)
    this_year = datetime.now(PARK_TZ).year
    source = covered_years()
    loaded = list(range(this_year, source.stop))  # every covered year from this one
    calendar_lines = [line.split()[3] for line in lines if line.startswith("booking: park calendar ")]
    assert calendar_lines == [str(year) for year in loaded]
    if loaded:
        assert any(f"covers 2004-{source.stop - 1}; {source.stop} is not in it yet" in line for line in lines)
    assert count_days(db) == sum(len(official_days(year)) for year in loaded)
    assert seed(settings) == []  # idempotent: a year with days is left as it is
    spaces = {s["code"]: s for s in api.get("/spaces?page_size=100", user="bob").json["items"]}
    closing = sorted(code for code, s in spaces.items() if s["closes_on_public_holidays"])
    assert closing == sorted(STAFFED)
    assert {"science-hall", "exhibition-hall", "b3-international"} <= set(closing)
    assert not spaces["a1-negotiation-1"]["closes_on_public_holidays"]
    assert not spaces["basketball-court"]["closes_on_public_holidays"]
    calendar = api.get(f"/park-calendar?year={this_year}").json
    assert calendar["covered_years"] == list(source)
    assert calendar["next_year_loaded"] is (this_year + 1 in loaded)


def test_a_seeded_staffed_hall_closes_on_a_holiday_and_a_seeded_room_stays_open(settings, api):
    seed(settings)
    holiday = first_after(10, (1, 2, 3))
    enter(api, {holiday: ("holiday", "national_day")})
    spaces = {s["code"]: s for s in api.get("/spaces?page_size=100", user="bob").json["items"]}
    hall = spaces["b3-multifunction"]
    refused = api.book(hall["id"], at(holiday, "10:00"), at(holiday, "12:00"), attendees=30)
    assert refused.json["type"].endswith("/rule/space-closed"), refused.json
    room = spaces["a1-negotiation-1"]
    assert api.book(room["id"], at(holiday, "10:00"), at(holiday, "11:00"), attendees=4).status_code == 201
