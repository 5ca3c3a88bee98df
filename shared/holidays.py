"""China's official calendar: public holidays and make-up working days, year by year.

The State Council announces each year's schedule late in the year before: which days are
public holidays (the festival itself and the days bridged to it, weekends included) and which
weekend days become working days to make up for the bridge (调休上班日). The maintained source is
the ``chinesecalendar`` package (import name ``chinese_calendar``), which follows the
announcements; it lags each one, so every answer here says which years it covers and a year it
does not cover is an explicit :class:`YearNotCovered`, never an empty year.

Pure: no database, no web framework. Booking's park calendar (closures of staffed halls) and
consulting's business calendar (SLA clocks) both read it.

Festivals are named by a code (``national_day``); their names in the reader's language are the
labels of kind :data:`PUBLIC_HOLIDAY` (the kernel's catalogue has the Chinese), the two kinds of
day those of :data:`PARK_DAY_KIND`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import chinese_calendar
from chinese_calendar.constants import Holiday
from chinese_calendar.constants import holidays as _HOLIDAYS
from chinese_calendar.constants import workdays as _WORKDAYS

from shared.errors import RuleViolation
from shared.i18n import Message, _, label, register_labels

__all__ = [
    "HOLIDAY",
    "KINDS",
    "PARK_DAY_KIND",
    "PUBLIC_HOLIDAY",
    "SOURCE",
    "WORKDAY",
    "OfficialDay",
    "YearNotCovered",
    "check_entered_days",
    "check_year",
    "covered_years",
    "festival_code",
    "official_days",
]

HOLIDAY = "holiday"
"""A public holiday: nobody works (the festival and the days bridged to it)."""
WORKDAY = "workday"
"""A make-up working day: a Saturday or Sunday on which everybody works."""
KINDS = (HOLIDAY, WORKDAY)

SOURCE = "chinesecalendar"
"""How the days this module gives are marked where they are stored (``source``)."""
SOURCE_VERSION: str = getattr(chinese_calendar, "__version__", "unknown")
MANUAL = "manual"
"""The ``source`` of days park admin entered by hand (the State Council announced a year the
package does not have yet)."""
FIRST_YEAR, LAST_YEAR = 2000, 2100
"""The years a park calendar takes (booking's and consulting's)."""

PUBLIC_HOLIDAY = "public-holiday"
PARK_DAY_KIND = "park-day-kind"

FESTIVALS: Mapping[str, Message] = {
    "new_years_day": _("New Year's Day"),
    "spring_festival": _("Spring Festival"),
    "tomb_sweeping_day": _("Tomb-sweeping Day"),
    "labour_day": _("Labour Day"),
    "dragon_boat_festival": _("Dragon Boat Festival"),
    "national_day": _("National Day"),
    "mid_autumn_festival": _("Mid-autumn Festival"),
    "anti_fascist_70th_day": _("70th anniversary of the victory in the War of Resistance"),
}
"""Every festival the source names, by code (the source's own enum names)."""

register_labels(PUBLIC_HOLIDAY, FESTIVALS)
register_labels(PARK_DAY_KIND, {HOLIDAY: _("Public holiday"), WORKDAY: _("Make-up working day")})


@dataclass(frozen=True, order=True)
class OfficialDay:
    """One day off the usual week: ``kind`` is :data:`HOLIDAY` or :data:`WORKDAY`; ``name`` the
    code of the festival it belongs to (a make-up day names the festival it makes up for)."""

    day: date
    kind: str
    name: str


class YearNotCovered(RuleViolation):
    """The source has no schedule for the year asked (422, ``calendar/year-not-covered``): it
    names the years it covers, so a caller can tell the user to enter the year by hand."""

    def __init__(self, year: int) -> None:
        years = covered_years()
        super().__init__(
            _(
                "The official holiday schedule of {year} is not in the source yet (it covers {first}–{last}); "
                "enter that year's days by hand.",
                year=year,
                first=years.start,
                last=years.stop - 1,
            ),
            code="calendar/year-not-covered",
            year=year,
            covered_years=[years.start, years.stop - 1],
        )
        self.year = year


def covered_years() -> range:
    """The years the installed source has a schedule for (2004–2026 for chinesecalendar 1.11)."""
    years = sorted({d.year for d in _HOLIDAYS} | {d.year for d in _WORKDAYS})
    return range(years[0], years[-1] + 1)


def festival_code(english_name: str) -> str:
    """The code of a festival the source names in English (``"National Day"`` → ``national_day``)."""
    code: str = Holiday(english_name).name
    return code


def official_days(year: int) -> tuple[OfficialDay, ...]:
    """The holidays and make-up working days of ``year``, in date order; :class:`YearNotCovered`
    when the source has no schedule for it."""
    if year not in covered_years():
        raise YearNotCovered(year)
    found = [OfficialDay(day, HOLIDAY, festival_code(name)) for day, name in _HOLIDAYS.items() if day.year == year] + [
        OfficialDay(day, WORKDAY, festival_code(name)) for day, name in _WORKDAYS.items() if day.year == year
    ]
    return tuple(sorted(found))


# Entering a year by hand -----------------------------------------------------------------------
# Booking's park calendar and consulting's business calendar both let park admin type a year in
# from the State Council's announcement while the package lags; the checks are the same.


def check_year(year: int, *, code: str) -> int:
    """``year`` when it is between :data:`FIRST_YEAR` and :data:`LAST_YEAR`; a RuleViolation
    with ``code`` (the caller's rule) otherwise."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise RuleViolation(_("A year between {first} and {last}.", first=FIRST_YEAR, last=LAST_YEAR), code=code)
    return year


def check_entered_days(
    year: int, entries: Iterable[tuple[date, str, str | None]], *, code: str
) -> list[tuple[date, str, str | None]]:
    """The special days of ``year`` as typed, ``(day, kind, name)``, checked: every day in
    ``year``, each once, a kind of :data:`KINDS`, a make-up working day only on a Saturday or
    Sunday. The first fault is a RuleViolation with ``code`` naming the day; the days in date
    order otherwise."""
    seen: set[date] = set()
    checked = []
    for day, kind, name in entries:
        if day.year != year:
            raise RuleViolation(_("{date} is not in {year}.", date=day.isoformat(), year=year), code=code)
        if day in seen:
            raise RuleViolation(_("{date} is listed twice.", date=day.isoformat()), code=code)
        seen.add(day)
        if kind not in KINDS:
            raise RuleViolation(_("Unknown kind of day: {kind}.", kind=kind), code=code)
        if kind == WORKDAY and day.weekday() < 5:
            raise RuleViolation(
                _(
                    "{date} is a weekday: only a Saturday or Sunday can be a {kind}.",
                    date=day.isoformat(),
                    kind=label(PARK_DAY_KIND, WORKDAY),
                ),
                code=code,
            )
        checked.append((day, kind, name))
    return sorted(checked)
