"""China's official calendar (shared.holidays): the State Council's holidays and make-up working
days as the maintained source gives them, checked against days known from the announcements,
the years the source covers, and the explicit refusal of a year it does not.

No test here depends on where the installed source's coverage ends: CI installs the newest
``chinesecalendar`` pyproject allows, which gains a year each winter. What a missing year does is
tested on a source cut short on purpose (:func:`cover_only`)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import shared.holidays
from shared.holidays import (
    HOLIDAY,
    PARK_DAY_KIND,
    PUBLIC_HOLIDAY,
    WORKDAY,
    OfficialDay,
    YearNotCovered,
    covered_years,
    festival_code,
    official_days,
)
from shared.i18n import label, render


def days_of(year: int) -> dict[date, OfficialDay]:
    return {d.day: d for d in official_days(year)}


def cover_only(monkeypatch: pytest.MonkeyPatch, last: int) -> range:
    """Make the official source end with ``last``, as the installed one did before the State
    Council's schedule of ``last + 1`` reached it: the real days up to ``last``, and New Year's
    Day for any year up to it the installed source lacks."""
    real = covered_years()
    holidays = {d: n for d, n in shared.holidays._HOLIDAYS.items() if d.year <= last}
    holidays |= {date(year, 1, 1): "New Year's Day" for year in range(real.stop, last + 1)}
    workdays = {d: n for d, n in shared.holidays._WORKDAYS.items() if d.year <= last}
    monkeypatch.setattr(shared.holidays, "_HOLIDAYS", holidays)
    monkeypatch.setattr(shared.holidays, "_WORKDAYS", workdays)
    assert covered_years() == range(real.start, last + 1)
    return covered_years()


def test_2026_national_day_golden_week_and_its_make_up_days() -> None:
    days = days_of(2026)
    for n in range(1, 8):
        assert days[date(2026, 10, n)] == OfficialDay(date(2026, 10, n), HOLIDAY, "national_day")
    # Sunday 20 September and Saturday 10 October are worked to bridge the week.
    assert date(2026, 9, 20).weekday() == 6 and date(2026, 10, 10).weekday() == 5
    assert days[date(2026, 9, 20)] == OfficialDay(date(2026, 9, 20), WORKDAY, "national_day")
    assert days[date(2026, 10, 10)] == OfficialDay(date(2026, 10, 10), WORKDAY, "national_day")
    assert date(2026, 10, 8) not in days  # an ordinary Thursday again


def test_2026_new_year_and_spring_festival() -> None:
    days = days_of(2026)
    assert days[date(2026, 1, 1)] == OfficialDay(date(2026, 1, 1), HOLIDAY, "new_years_day")
    assert days[date(2026, 1, 4)] == OfficialDay(date(2026, 1, 4), WORKDAY, "new_years_day")  # a Sunday
    assert days[date(2026, 2, 17)].name == "spring_festival"  # the first day of the Year of the Horse
    assert {d for d, o in days.items() if o.kind == WORKDAY and o.name == "spring_festival"} == {
        date(2026, 2, 14),
        date(2026, 2, 28),
    }


def test_every_make_up_working_day_is_a_weekend_day_and_the_days_are_in_order() -> None:
    for year in covered_years():
        days = official_days(year)
        assert list(days) == sorted(days)
        assert all(d.day.year == year for d in days)
        assert all(d.day.weekday() >= 5 for d in days if d.kind == WORKDAY), year
        assert {d.kind for d in days} <= {HOLIDAY, WORKDAY}


def test_covered_years_run_from_2004_without_a_gap_and_include_2026() -> None:
    years = covered_years()
    assert years.start == 2004
    assert 2026 in years  # chinesecalendar 1.11 and every later release
    for year in years:  # every year in the range has its schedule: no gap, no empty year
        assert any(d.kind == HOLIDAY for d in official_days(year)), year
    with pytest.raises(YearNotCovered):
        official_days(years.stop)


def test_a_source_without_next_years_schedule_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """As chinesecalendar 1.11 was in 2026: 2004-2026, and 2027 refused until a release has it."""
    assert cover_only(monkeypatch, 2026) == range(2004, 2027)
    with pytest.raises(YearNotCovered) as caught:
        official_days(2027)
    assert caught.value.extra == {"year": 2027, "covered_years": [2004, 2026]}
    assert "2027" in str(caught.value.detail) and "2004–2026" in str(caught.value.detail)
    assert days_of(2026)[date(2026, 10, 1)].name == "national_day"


@pytest.mark.parametrize("year", [covered_years().stop, 2003, 2100])
def test_a_year_the_source_does_not_cover_is_refused_naming_the_years_it_covers(year: int) -> None:
    with pytest.raises(YearNotCovered) as caught:
        official_days(year)
    refusal = caught.value
    assert refusal.code == "calendar/year-not-covered"
    assert refusal.status == 422
    last = covered_years().stop - 1
    assert refusal.extra == {"year": year, "covered_years": [2004, last]}
    assert f"{year}" in str(refusal.detail) and f"2004–{last}" in str(refusal.detail)
    assert f"2004–{last}" in render(refusal.detail, "zh") and "手动" in render(refusal.detail, "zh")


def test_festival_names_are_codes_with_labels_in_both_languages() -> None:
    assert festival_code("Mid-autumn Festival") == "mid_autumn_festival"
    assert render(label(PUBLIC_HOLIDAY, "national_day"), "en") == "National Day"
    assert render(label(PUBLIC_HOLIDAY, "national_day"), "zh") == "国庆节"
    assert render(label(PUBLIC_HOLIDAY, "spring_festival"), "zh") == "春节"
    assert render(label(PARK_DAY_KIND, WORKDAY), "zh") == "调休上班日"
    names = {d.name for year in covered_years() for d in official_days(year)}
    for name in names:  # every festival the source names has its Chinese label
        assert render(label(PUBLIC_HOLIDAY, name), "zh") != name


def test_holidays_of_a_year_include_the_weekend_days_of_the_bridge() -> None:
    days = days_of(2026)
    golden_week = [date(2026, 10, 1) + timedelta(days=n) for n in range(7)]
    assert [d.weekday() for d in golden_week if d.weekday() >= 5] == [5, 6]
    assert all(days[d].kind == HOLIDAY for d in golden_week)
