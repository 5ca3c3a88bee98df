"""Utilisation per space and per kind over a period: booked hours / open hours, and the no-show
rate. Booked means held for use (confirmed, checked in, completed, or a no-show, which kept the
space from others until it was released)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.booking.models import Closure, Reservation, Space
from services.booking.rules import Interval, opening_intervals, subtract
from shared.clock import PARK_TZ, as_utc
from shared.errors import RuleViolation
from shared.i18n import _

BOOKED = ("confirmed", "checked_in", "completed", "no_show")
ATTENDED = ("checked_in", "completed")
MAX_PERIOD = timedelta(days=366)
COLUMNS = (
    "level",
    "space_id",
    "code",
    "name",
    "name_zh",
    "kind",
    "open_hours",
    "booked_hours",
    "utilisation",
    "reservations",
    "no_shows",
    "no_show_rate",
)


def _period(first: date, last: date) -> Interval:
    period = Interval(
        as_utc(datetime.combine(first, time(0), PARK_TZ)),
        as_utc(datetime.combine(last + timedelta(days=1), time(0), PARK_TZ)),
    )
    if period.end <= period.start:
        raise RuleViolation(_("The period ends before it starts."), code="rule/end-after-start")
    if period.end - period.start > MAX_PERIOD:
        raise RuleViolation(_("A report covers at most a year."), code="rule/report-period")
    return period


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def utilisation(session: Session, first: date, last: date, kind: str | None = None) -> dict[str, Any]:
    period = _period(first, last)
    query = select(Space).where(Space.active.is_(True)).order_by(Space.kind, Space.code)
    if kind:
        query = query.where(Space.kind == kind)
    spaces = list(session.execute(query).scalars())
    ids = [s.id for s in spaces]
    closures: dict[str, list[Interval]] = defaultdict(list)
    booked: dict[str, float] = defaultdict(float)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if ids:
        for space_id, a, b in session.execute(
            select(Closure.space_id, Closure.starts_at, Closure.ends_at).where(
                Closure.space_id.in_(ids), Closure.starts_at < period.end, Closure.ends_at > period.start
            )
        ):
            closures[space_id].append(Interval(as_utc(a), as_utc(b)))
        for space_id, a, b, status in session.execute(
            select(Reservation.space_id, Reservation.starts_at, Reservation.ends_at, Reservation.status).where(
                Reservation.space_id.in_(ids),
                Reservation.status.in_(BOOKED),
                Reservation.starts_at < period.end,
                Reservation.ends_at > period.start,
            )
        ):
            start, end = max(as_utc(a), period.start), min(as_utc(b), period.end)
            booked[space_id] += (end - start).total_seconds() / 3600
            counts[space_id][status] += 1
    rows = []
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for space in spaces:
        open_hours = (
            sum(
                i.minutes for i in subtract(opening_intervals(space.policy().opening_hours, period), closures[space.id])
            )
            / 60
        )
        reservations = sum(counts[space.id].values())
        no_shows = counts[space.id]["no_show"]
        judged = no_shows + sum(counts[space.id][s] for s in ATTENDED)
        rows.append(
            {
                "level": "space",
                "space_id": space.id,
                "code": space.code,
                "name": space.name,
                "name_zh": space.name_zh,
                "kind": space.kind,
                "open_hours": round(open_hours, 2),
                "booked_hours": round(booked[space.id], 2),
                "utilisation": _ratio(booked[space.id], open_hours),
                "reservations": reservations,
                "no_shows": no_shows,
                "no_show_rate": _ratio(no_shows, judged),
            }
        )
        total = totals[space.kind]
        total["open_hours"] += open_hours
        total["booked_hours"] += booked[space.id]
        total["reservations"] += reservations
        total["no_shows"] += no_shows
        total["judged"] += judged
        total["spaces"] += 1
    kinds = [
        {
            "level": "kind",
            "kind": name,
            "spaces": int(t["spaces"]),
            "open_hours": round(t["open_hours"], 2),
            "booked_hours": round(t["booked_hours"], 2),
            "utilisation": _ratio(t["booked_hours"], t["open_hours"]),
            "reservations": int(t["reservations"]),
            "no_shows": int(t["no_shows"]),
            "no_show_rate": _ratio(t["no_shows"], t["judged"]),
        }
        for name, t in sorted(totals.items())
    ]
    return {"from_": first, "to": last, "timezone": str(PARK_TZ), "spaces": rows, "kinds": kinds}


def as_csv(report: dict[str, Any]) -> str:
    """One row per space, then one per kind (``level`` says which)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in (*report["spaces"], *report["kinds"]):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()
