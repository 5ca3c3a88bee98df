"""Commands of the business calendar (park admin): the weekly hours, a year loaded from the
official schedule, a year entered by hand. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from shared.principal import Principal

WITHOUT_IF_MATCH: Literal["absent"] = "absent"
"""A year's change that came without ``If-Match``: allowed only while the year is not held."""
YearVersions = frozenset[int] | None | Literal["absent"]
"""The versions of the year a change names in ``If-Match`` (``"0"``: the year is not held yet;
None: ``*``, or no HTTP request at all), or :data:`WITHOUT_IF_MATCH`."""


@dataclass(frozen=True)
class SetHours:
    """Replace the weekly working hours: weekday ``"0"``–``"6"`` (Monday first) → its periods
    ``[["09:00", "12:00"], ...]`` in park time, under ``If-Match`` on the settings' version."""

    actor: Principal
    hours: Mapping[str, Sequence[Sequence[str]]]
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class LoadOfficialYear:
    """Replace ``year``'s special days with the official schedule's (``shared.holidays``)."""

    actor: Principal
    year: int
    expected_versions: YearVersions = None


@dataclass(frozen=True)
class DayEntry:
    """One special day typed by park admin: ``kind`` ``holiday`` or ``workday``; ``name`` a
    festival's code (``national_day``) or free text."""

    day: date
    kind: str
    name: str | None = None


@dataclass(frozen=True)
class EnterYear:
    """Replace ``year``'s special days with ``days``, marked as entered by hand (``manual``)."""

    actor: Principal
    year: int
    days: tuple[DayEntry, ...]
    expected_versions: YearVersions = None
