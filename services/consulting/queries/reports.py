"""The SLA report (park admin): per category or per firm, over the cases submitted on the park
days ``from``–``to``: how many, the backlog (those still open now, by state), each clock's
targets (decided, met in time, attainment, breached, median business minutes), and the tenants'
ratings. Everything is counted over the cases submitted in the period, the backlog included.

A clock counts once its outcome is known (``decided``): met (in time or late) or, still running,
past its target; a clock still within its target, or stopped (a firm that declined or was
replaced, a cancelled case), is not decided. ``attainment`` is met in time / decided. The medians
are of the business minutes the met clocks used (time to first response, time to resolution).
Grouped by firm, a firm clock counts for its own firm, the rest of a case for the firm assigned
now (``None``: no firm yet, or back with the desk)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.consulting.models import Case, Category, Rating, SlaClock, directory
from services.consulting.queries.calendar import load_business_calendar
from services.consulting.queries.sla import pauses_of
from services.consulting.rules import OPEN, STATUSES
from services.consulting.rules.names import CASE_STATUS, SLA_CLOCK, SLA_TARGET
from services.consulting.rules.sla import used_minutes
from shared.clock import as_utc
from shared.events.consulting import SLA_CLOCKS, SLA_TARGETS
from shared.i18n import Message, _, label
from shared.periods import park_period

GROUPINGS = ("category", "firm")
BATCH = 500
STARS = range(1, 6)
_FOUR = Decimal("0.0001")
_TWO = Decimal("0.01")


@dataclass
class _Target:
    decided: int = 0
    met_in_time: int = 0
    minutes: list[int] = field(default_factory=list)


@dataclass
class _Group:
    key: str | None
    cases: int = 0
    backlog: Counter[str] = field(default_factory=Counter)
    targets: dict[tuple[str, str], _Target] = field(default_factory=lambda: defaultdict(_Target))
    stars: Counter[int] = field(default_factory=Counter)


def _share(part: int, whole: int) -> str | None:
    return str((Decimal(part) / Decimal(whole)).quantize(_FOUR, rounding=ROUND_HALF_EVEN)) if whole else None


def _median(values: list[int]) -> int | None:
    """The median in whole minutes (half up between two middles), None without any."""
    if not values:
        return None
    return int(Decimal(str(median(values))).to_integral_value())


def _cases(session: Session, start: datetime, end: datetime) -> Iterator[list[Case]]:
    after = ""
    while True:
        query = (
            select(Case)
            .where(Case.submitted_at >= start, Case.submitted_at < end, Case.id > after)
            .order_by(Case.id)
            .limit(BATCH)
        )
        batch = list(session.execute(query).scalars())
        if not batch:
            return
        yield batch
        after = batch[-1].id


def sla_report(session: Session, first: date, last: date, group_by: str, now: datetime) -> dict[str, Any]:
    """The report as JSON-ready data: ``from_``, ``to``, ``group_by``, ``generated_at`` and
    ``groups``, each with ``key`` (the category's code or the firm's organisation id; None for
    cases with no firm), ``name``/``name_zh``, ``cases``, ``backlog`` (``total`` and ``by_status``:
    ``status`` and ``count`` for every open state), ``clocks`` (one entry per clock and target: ``decided``,
    ``met_in_time``, ``breached``, ``attainment`` (decimal string or None), ``median_minutes``)
    and ``ratings`` (``count``, ``average`` with two places or None, ``distribution`` "1"–"5").
    Groups by name; read :data:`BATCH` cases at a time with their clocks, pauses and ratings."""
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}")
    start, end = park_period(first, last)
    now = as_utc(now)
    calendar = load_business_calendar(session)
    groups: dict[str | None, _Group] = {}

    def group(key: str | None) -> _Group:
        return groups.setdefault(key, _Group(key))

    for batch in _cases(session, start, end):
        ids = [case.id for case in batch]
        pauses = pauses_of(session, ids)
        clocks: dict[str, list[SlaClock]] = defaultdict(list)
        for clock in session.execute(select(SlaClock).where(SlaClock.case_id.in_(ids))).scalars():
            clocks[clock.case_id].append(clock)
        ratings = {
            c: n for c, n in session.execute(select(Rating.case_id, Rating.stars).where(Rating.case_id.in_(ids)))
        }
        for case in batch:
            own = group(case.category_code if group_by == "category" else case.firm_org_id)
            own.cases += 1
            if case.status in OPEN:
                own.backlog[case.status] += 1
            if case.id in ratings:
                own.stars[ratings[case.id]] += 1
            for clock in clocks[case.id]:
                if clock.stopped_at is not None:
                    continue
                used = used_minutes(clock.started_at, clock.met_at or now, calendar, pauses.get(case.id, []))
                if clock.met_at is None and used < clock.target_minutes:
                    continue  # running, within its target: not decided yet
                counted = own
                if group_by == "firm" and clock.clock == "firm":
                    counted = group(clock.firm_org_id)
                entry = counted.targets[(clock.clock, clock.target)]
                entry.decided += 1
                if clock.met_at is not None:
                    entry.minutes.append(used)
                    if used < clock.target_minutes:
                        entry.met_in_time += 1
    names = _names(session, group_by, [k for k in groups if k is not None])
    rows = [_row(g, names.get(g.key)) for g in groups.values()]
    rows.sort(key=lambda r: (r["key"] is None, r["name"] or "", r["key"] or ""))
    return {
        "from_": first,
        "to": last,
        "group_by": group_by,
        "generated_at": now,
        "groups": rows,
    }


def _names(session: Session, group_by: str, keys: list[str]) -> dict[str | None, tuple[str, str]]:
    if not keys:
        return {}
    if group_by == "category":
        query = select(Category.code, Category.name, Category.name_zh).where(Category.code.in_(keys))
    else:
        query = select(directory.c.id, directory.c.name, directory.c.name_zh).where(directory.c.id.in_(keys))
    return {key: (name, name_zh or name) for key, name, name_zh in session.execute(query)}


NO_FIRM: Message = _("No firm assigned")


def _row(group: _Group, name: tuple[str, str] | None) -> dict[str, Any]:
    count = sum(group.stars.values())
    total = sum(stars * n for stars, n in group.stars.items())
    clocks = []
    for clock in SLA_CLOCKS:
        for target in SLA_TARGETS:
            entry = group.targets.get((clock, target), _Target())
            clocks.append(
                {
                    "clock": clock,
                    "target": target,
                    "decided": entry.decided,
                    "met_in_time": entry.met_in_time,
                    "breached": entry.decided - entry.met_in_time,
                    "attainment": _share(entry.met_in_time, entry.decided),
                    "median_minutes": _median(entry.minutes),
                }
            )
    return {
        "key": group.key,
        "name": name[0] if name else (group.key if group.key is not None else None),
        "name_zh": name[1] if name else None,
        "cases": group.cases,
        "backlog": {
            "total": sum(group.backlog.values()),
            "by_status": [
                {"status": status, "count": group.backlog.get(status, 0)} for status in STATUSES if status in OPEN
            ],
        },
        "clocks": clocks,
        "ratings": {
            "count": count,
            "average": str((Decimal(total) / Decimal(count)).quantize(_TWO, rounding=ROUND_HALF_EVEN))
            if count
            else None,
            "distribution": {str(stars): group.stars.get(stars, 0) for stars in STARS},
        },
    }


# CSV -----------------------------------------------------------------------------------------


def csv_columns() -> dict[str, Message]:
    """Every column of the CSV, key → its header (in the reader's language when rendered): the
    group, its cases and backlog by state, five measures per clock and target, the ratings."""
    columns: dict[str, Message] = {
        "group": _("Group"),
        "group_name": _("Name"),
        "cases": _("Cases submitted"),
        "backlog": _("Open now"),
    }
    for status in STATUSES:
        if status in OPEN:
            columns[f"backlog_{status}"] = _("Open now: {status}", status=label(CASE_STATUS, status))
    for clock in SLA_CLOCKS:
        for target in SLA_TARGETS:
            named = {"clock": label(SLA_CLOCK, clock), "target": label(SLA_TARGET, target)}
            columns[f"{clock}_{target}_decided"] = _("{clock}, {target}: decided", **named)
            columns[f"{clock}_{target}_met_in_time"] = _("{clock}, {target}: met in time", **named)
            columns[f"{clock}_{target}_breached"] = _("{clock}, {target}: missed", **named)
            columns[f"{clock}_{target}_attainment"] = _("{clock}, {target}: attainment", **named)
            columns[f"{clock}_{target}_median_minutes"] = _("{clock}, {target}: median business minutes", **named)
    columns["ratings"] = _("Ratings")
    columns["rating_average"] = _("Average rating")
    for stars in STARS:
        columns[f"rating_{stars}"] = _("Ratings of {stars} stars", stars=stars)
    return columns


def csv_row(group: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One group of :func:`sla_report` flattened to :func:`csv_columns`' keys (``name`` in the
    reader's language)."""
    row: dict[str, Any] = {
        "group": group["key"],
        "group_name": name,
        "cases": group["cases"],
        "backlog": group["backlog"]["total"],
    }
    for entry in group["backlog"]["by_status"]:
        row[f"backlog_{entry['status']}"] = entry["count"]
    for entry in group["clocks"]:
        for measure in ("decided", "met_in_time", "breached", "attainment", "median_minutes"):
            row[f"{entry['clock']}_{entry['target']}_{measure}"] = entry[measure]
    row["ratings"] = group["ratings"]["count"]
    row["rating_average"] = group["ratings"]["average"]
    for stars, count in group["ratings"]["distribution"].items():
        row[f"rating_{stars}"] = count
    return row
