"""Consulting's business time: working hours split by lunch, China's public holidays and make-up
working days (National Day 2026 from the official source), pauses, inputs in any offset; worked
examples, refused calendars, and properties (hypothesis) of adding and measuring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.consulting.rules import (
    add_business_minutes,
    business_calendar,
    business_minutes_between,
    minutes_for_share,
    share_reached,
    share_used,
)
from shared.clock import PARK_TZ
from shared.errors import RuleViolation
from shared.holidays import HOLIDAY, WORKDAY, official_days
from shared.i18n import render

OFFICE = [("09:00", "12:00"), ("13:30", "18:00")]  # 450 minutes a day
WEEKDAYS = {day: OFFICE for day in range(5)}
PLAIN = business_calendar(WEEKDAYS)
CHINA = business_calendar(WEEKDAYS, [*official_days(2025), *official_days(2026)], covered_years=[2025, 2026])


def park(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARK_TZ)


@dataclass(frozen=True)
class Day:
    day: date
    kind: str


# Worked examples ------------------------------------------------------------------------------------


def test_the_lunch_break_does_not_count():
    monday = park(2026, 11, 30, 11, 0)
    assert add_business_minutes(monday, 120, PLAIN) == park(2026, 11, 30, 14, 30)
    assert business_minutes_between(monday, park(2026, 11, 30, 14, 30), PLAIN) == 120
    assert business_minutes_between(park(2026, 11, 30, 0, 0), park(2026, 12, 1, 0, 0), PLAIN) == 450


def test_a_deadline_ending_with_a_period_is_that_end_not_the_next_start():
    assert add_business_minutes(park(2026, 11, 30, 11, 0), 60, PLAIN) == park(2026, 11, 30, 12, 0)
    assert add_business_minutes(park(2026, 11, 30, 9, 0), 450, PLAIN) == park(2026, 11, 30, 18, 0)
    assert add_business_minutes(park(2026, 11, 30, 11, 0), 61, PLAIN) == park(2026, 11, 30, 13, 31)


def test_a_start_outside_working_time_begins_at_the_next_working_moment():
    assert add_business_minutes(park(2026, 11, 30, 12, 30), 30, PLAIN) == park(2026, 11, 30, 14, 0)
    assert add_business_minutes(park(2026, 11, 30, 7, 0), 1, PLAIN) == park(2026, 11, 30, 9, 1)
    assert add_business_minutes(park(2026, 11, 30, 19, 0), 1, PLAIN) == park(2026, 12, 1, 9, 1)
    # nothing to add: the start itself
    assert add_business_minutes(park(2026, 11, 30, 12, 30), 0, PLAIN) == park(2026, 11, 30, 12, 30)


def test_friday_evening_into_monday():
    friday = park(2026, 12, 4, 17, 0)
    assert add_business_minutes(friday, 120, PLAIN) == park(2026, 12, 7, 10, 0)
    assert business_minutes_between(friday, park(2026, 12, 7, 10, 0), PLAIN) == 120
    assert add_business_minutes(park(2026, 12, 5, 10, 0), 30, PLAIN) == park(2026, 12, 7, 9, 30)  # a Saturday
    assert business_minutes_between(park(2026, 12, 4, 18, 0), park(2026, 12, 7, 9, 0), PLAIN) == 0


def test_national_day_2026_is_off_and_its_make_up_days_are_worked():
    # Wednesday 30 September, then 1–7 October off: the clock goes on on Thursday 8 October
    eve = park(2026, 9, 30, 17, 0)
    assert add_business_minutes(eve, 120, CHINA) == park(2026, 10, 8, 10, 0)
    assert business_minutes_between(eve, park(2026, 10, 8, 10, 0), CHINA) == 120
    assert business_minutes_between(park(2026, 10, 1), park(2026, 10, 8), CHINA) == 0
    # Saturday 10 October is worked, with a weekday's hours
    assert add_business_minutes(park(2026, 10, 9, 17, 30), 60, CHINA) == park(2026, 10, 10, 9, 30)
    assert business_minutes_between(park(2026, 10, 10), park(2026, 10, 11), CHINA) == 450
    # Sunday 20 September too
    assert add_business_minutes(park(2026, 9, 19, 10, 0), 30, CHINA) == park(2026, 9, 20, 9, 30)
    # The Mid-autumn Festival (Friday 25 September) is off
    assert business_minutes_between(park(2026, 9, 24, 18, 0), park(2026, 9, 28, 9, 0), CHINA) == 0
    # The same dates in the plain week: the holiday is worked, the weekend is not
    assert add_business_minutes(eve, 120, PLAIN) == park(2026, 10, 1, 10, 0)
    assert business_minutes_between(park(2026, 10, 10), park(2026, 10, 11), PLAIN) == 0


def test_a_make_up_day_takes_the_first_weekday_with_hours():
    mondays_differ = business_calendar(
        {0: [("10:00", "16:00")], **{d: OFFICE for d in range(1, 5)}}, [Day(date(2026, 10, 10), WORKDAY)]
    )
    assert mondays_differ.periods_of(date(2026, 10, 10)) == ((600, 960),)
    weekends_only = business_calendar({5: [("10:00", "14:00")]}, [Day(date(2026, 10, 10), WORKDAY)])
    assert weekends_only.periods_of(date(2026, 10, 10)) == ((600, 840),)
    assert weekends_only.periods_of(date(2026, 10, 11)) == ()


def test_times_in_other_offsets_are_read_in_park_time():
    in_utc = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # 11:00 in the park
    in_europe = datetime(2026, 11, 30, 5, 0, tzinfo=timezone(timedelta(hours=2)))  # 11:00 in the park
    for start in (in_utc, in_europe):
        deadline = add_business_minutes(start, 120, PLAIN)
        assert deadline == datetime(2026, 11, 30, 6, 30, tzinfo=UTC)
        assert deadline.utcoffset() == timedelta(hours=8)
        assert (
            business_minutes_between(start, datetime(2026, 11, 30, 8, 30, tzinfo=timezone(timedelta(hours=2))), PLAIN)
            == 120
        )
    # 23:30 UTC on Sunday is Monday 07:30 in the park
    assert add_business_minutes(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), 1, PLAIN) == park(2026, 11, 30, 9, 1)


def test_naive_times_and_negative_minutes_are_programming_errors():
    with pytest.raises(ValueError):
        add_business_minutes(datetime(2026, 11, 30, 9, 0), 10, PLAIN)
    with pytest.raises(ValueError):
        business_minutes_between(datetime(2026, 11, 30, 9, 0), park(2026, 11, 30, 10, 0), PLAIN)
    with pytest.raises(ValueError):
        add_business_minutes(park(2026, 11, 30, 9, 0), -1, PLAIN)


def test_pauses_stop_the_clock():
    day = (park(2026, 11, 30, 9, 0), park(2026, 11, 30, 18, 0))
    assert business_minutes_between(*day, PLAIN) == 450
    assert business_minutes_between(*day, PLAIN, pauses=[(park(2026, 11, 30, 10, 0), park(2026, 11, 30, 11, 0))]) == 390
    # a pause over lunch counts only its working minutes
    assert (
        business_minutes_between(*day, PLAIN, pauses=[(park(2026, 11, 30, 11, 30), park(2026, 11, 30, 14, 0))]) == 390
    )
    # overlapping pauses are not subtracted twice
    overlapping = [
        (park(2026, 11, 30, 10, 0), park(2026, 11, 30, 11, 0)),
        (park(2026, 11, 30, 10, 30), park(2026, 11, 30, 11, 30)),
    ]
    assert business_minutes_between(*day, PLAIN, pauses=overlapping) == 360
    # a pause still open lasts until the end measured
    assert business_minutes_between(*day, PLAIN, pauses=[(park(2026, 11, 30, 16, 0), None)]) == 330
    # pauses outside the span change nothing; a pause over everything leaves nothing
    assert business_minutes_between(*day, PLAIN, pauses=[(park(2026, 11, 27, 9, 0), park(2026, 11, 30, 9, 0))]) == 450
    assert business_minutes_between(*day, PLAIN, pauses=[(park(2026, 11, 1), park(2026, 12, 1))]) == 0


def test_never_negative_and_whole_minutes():
    assert business_minutes_between(park(2026, 11, 30, 18, 0), park(2026, 11, 30, 9, 0), PLAIN) == 0
    assert business_minutes_between(park(2026, 11, 30, 9, 0), park(2026, 11, 30, 9, 0, 59), PLAIN) == 0
    assert business_minutes_between(park(2026, 11, 30, 9, 0, 30), park(2026, 11, 30, 9, 2), PLAIN) == 1


def test_whole_weeks_are_skipped_past_the_special_days_and_land_the_same():
    monday = park(2026, 11, 30, 9, 0)
    a_year = 450 * 5 * 52
    assert add_business_minutes(monday, a_year, PLAIN) == park(2027, 11, 26, 18, 0)
    assert business_minutes_between(monday, park(2027, 11, 26, 18, 0), PLAIN) == a_year
    assert add_business_minutes(monday, a_year + 1, PLAIN) == park(2027, 11, 29, 9, 1)
    # a calendar whose special days lie behind gives the same as the plain week
    assert add_business_minutes(monday, a_year, CHINA) == park(2027, 11, 26, 18, 0)


def test_the_calendar_says_which_years_it_covers():
    assert CHINA.covers(2026) and not CHINA.covers(2027)
    assert not PLAIN.covers(2026)


# Shares of a target ---------------------------------------------------------------------------------


def test_the_share_of_a_target_used():
    assert share_used(360, 450) == Decimal("0.8000")
    assert share_used(1, 3) == Decimal("0.3333")
    assert share_used(600, 450) == Decimal("1.3333")
    assert not share_reached(359, 450, Decimal("0.8"))
    assert share_reached(360, 450, Decimal("0.8"))
    assert not share_reached(5, 7, Decimal("0.8"))  # 5.6 minutes is 80 %: 5 is not there yet
    assert share_reached(6, 7, Decimal("0.8"))
    assert minutes_for_share(7, Decimal("0.8")) == 6
    assert minutes_for_share(450, Decimal("0.8")) == 360
    for bad in (0, -1):
        with pytest.raises(ValueError):
            share_used(1, bad)
        with pytest.raises(ValueError):
            share_reached(1, bad, Decimal("0.8"))
        with pytest.raises(ValueError):
            minutes_for_share(bad, Decimal("0.8"))


# Calendars that cannot work -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "days", "code"),
    [
        ({}, [], "calendar/no-working-time"),
        ({0: [], 6: []}, [], "calendar/no-working-time"),
        ({0: [("09:00", "12:00"), ("11:00", "13:00")]}, [], "calendar/periods-overlap"),
        ({0: [("13:30", "18:00"), ("09:00", "12:00")]}, [], "calendar/periods-overlap"),
        ({0: [("12:00", "09:00")]}, [], "calendar/period-invalid"),
        ({0: [("09:00", "09:00")]}, [], "calendar/period-invalid"),
        ({0: [("09:00", "25:00")]}, [], "calendar/period-invalid"),
        ({0: [("24:00", "24:00")]}, [], "calendar/period-invalid"),
        ({0: [("9h", "12:00")]}, [], "calendar/period-invalid"),
        ({0: [("09:60", "12:00")]}, [], "calendar/period-invalid"),
        ({7: OFFICE}, [], "calendar/weekday"),
        (WEEKDAYS, [Day(date(2026, 10, 1), HOLIDAY), Day(date(2026, 10, 1), HOLIDAY)], "calendar/special-day"),
        (WEEKDAYS, [Day(date(2026, 10, 8), WORKDAY)], "calendar/special-day"),
        (WEEKDAYS, [Day(date(2026, 10, 8), "closure")], "calendar/special-day"),
    ],
)
def test_a_calendar_that_cannot_work_is_refused(hours, days, code):
    with pytest.raises(RuleViolation) as refused:
        business_calendar(hours, days)
    assert refused.value.code == code
    assert refused.value.status == 422
    english, chinese = render(refused.value.detail, "en"), render(refused.value.detail, "zh")
    assert english != chinese and any("\u4e00" <= c <= "\u9fff" for c in chinese)


def test_a_day_may_work_until_midnight_and_periods_may_touch():
    late = business_calendar({0: [("09:00", "12:00"), ("12:00", "24:00")]})
    assert business_minutes_between(park(2026, 11, 30), park(2026, 12, 1), late) == 15 * 60
    assert add_business_minutes(park(2026, 11, 30, 11, 0), 60, late) == park(2026, 11, 30, 12, 0)
    assert add_business_minutes(park(2026, 11, 30, 23, 0), 60, late) == park(2026, 12, 1, 0, 0)


# Properties -----------------------------------------------------------------------------------------

OFFSETS = [
    UTC,
    PARK_TZ,
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=45)),
]
moments = st.builds(
    lambda naive, zone: naive.replace(tzinfo=PARK_TZ).astimezone(zone),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    st.sampled_from(OFFSETS),
)
minutes = st.integers(min_value=0, max_value=450 * 40)
calendars = st.sampled_from([PLAIN, CHINA])


@settings(max_examples=150, deadline=None)
@given(moments, minutes, calendars)
def test_adding_then_measuring_gives_the_minutes_back(start, m, calendar):
    assert business_minutes_between(start, add_business_minutes(start, m, calendar), calendar) == m


@settings(max_examples=150, deadline=None)
@given(moments, minutes, minutes, calendars)
def test_adding_is_additive(start, a, b, calendar):
    assert add_business_minutes(add_business_minutes(start, a, calendar), b, calendar) == add_business_minutes(
        start, a + b, calendar
    )


@settings(max_examples=150, deadline=None)
@given(moments, moments, minutes, minutes, calendars)
def test_adding_is_monotonic(s1, s2, m1, m2, calendar):
    s1, s2 = sorted([s1, s2])
    m1, m2 = sorted([m1, m2])
    assert add_business_minutes(s1, m1, calendar) <= add_business_minutes(s1, m2, calendar)
    assert add_business_minutes(s1, m1, calendar) <= add_business_minutes(s2, m1, calendar)
    assert add_business_minutes(s1, m1, calendar) >= s1


@settings(max_examples=150, deadline=None)
@given(
    moments,
    st.integers(min_value=0, max_value=60 * 24 * 30),
    st.lists(st.tuples(moments, moments), max_size=4),
    calendars,
)
def test_pauses_never_add_time(start, span, pauses, calendar):
    end = start + timedelta(minutes=span)
    measured = business_minutes_between(start, end, calendar)
    paused = business_minutes_between(start, end, calendar, pauses=[tuple(sorted(p)) for p in pauses])
    assert 0 <= paused <= measured
    assert measured <= span
