"""Reports over a period: utilisation per space and per kind (booked hours / open hours, and
the no-show rate; open hours are the space's week less its closures and, for a space that closes
on public holidays, less the park's holidays and plus its make-up working days; booked means held
for use: confirmed, checked in, completed, or a no-show, which kept the space from others until
it was released), and the reservations the park's finance office bills from
(:func:`billing_rows`, streamed)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.booking.models import Closure, Reservation, Space, directory
from services.booking.permissions import RIGHTS
from services.booking.queries.park_days import park_days_around
from services.booking.rules import Interval, counts_for_quota, opening_intervals, subtract
from services.booking.rules.intervals import NO_PARK_DAYS
from shared.clock import PARK_TZ, as_utc
from shared.csv import inert
from shared.i18n import Message, _
from shared.periods import park_period
from shared.principal import Principal

BOOKED = ("confirmed", "checked_in", "completed", "no_show")
ATTENDED = ("checked_in", "completed")
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
    return Interval(*park_period(first, last))


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
    # The park's holidays close (and its make-up working days open) only the spaces that follow them.
    park_days = park_days_around(session, period) if any(s.closes_on_public_holidays for s in spaces) else {}
    rows = []
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for space in spaces:
        calendar = park_days if space.closes_on_public_holidays else NO_PARK_DAYS
        opening = opening_intervals(space.policy().opening_hours, period, calendar)
        open_hours = sum(i.minutes for i in subtract(opening, closures[space.id])) / 60
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
        writer.writerow({k: "" if v is None else inert(v) for k, v in row.items()})
    return out.getvalue()


# Reservations for billing ---------------------------------------------------------------------

BILLING_COLUMNS: dict[str, Message] = {
    "reservation_id": _("Reservation"),
    "space_code": _("Space code"),
    "space": _("Space"),
    "organisation_id": _("Organisation ID"),
    "organisation": _("Organisation"),
    "booker": _("Booked by"),
    "title": _("Title"),
    "start": _("Start"),
    "end": _("End"),
    "status": _("Status code"),
    "status_label": _("Status"),
    "price": _("Price"),
    "currency": _("Currency"),
    "quota_minutes": _("Free minutes used"),
    "billable_minutes": _("Billable minutes"),
    "cancellation_fee": _("Cancellation fee"),
}
"""The export's columns in order: the stable keys (``header=keys``) and the header people read."""


def billing_period(first: date, last: date) -> Interval:
    """The days ``first`` to ``last`` (park time, both included) as an interval; 422 when it
    ends before it starts or covers more than :data:`shared.periods.MAX_PERIOD` (366 days)."""
    return _period(first, last)


def billing_scope(actor: Principal, organisation_id: str | None) -> str | None:
    """Whose reservations ``actor`` exports, by the ``export_reservations`` right: staff every
    organisation's or the one they name (``None``: all), a tenant admin their own organisation's
    (naming another one is a 403 with the row's refusal)."""
    if RIGHTS.allows(actor, "export_reservations"):  # a role alone allows it: staff
        return organisation_id
    org_id = organisation_id or actor.org_id
    RIGHTS.require(actor, "export_reservations", org_id)
    return org_id


def billing_rows(
    session: Session, period: Interval, org_id: str | None, *, batch: int = 500
) -> Iterator[dict[str, Any]]:
    """Every reservation starting in ``period`` (of ``org_id``, or all), in every state, by start:
    what the finance office bills from. Rows are fetched ``batch`` at a time as they are read.
    Names stay in both languages (``space_name``/``space_name_zh``, ``organisation_name``/``_zh``);
    money is a ``Decimal``, instants as stored (UTC). ``quota_minutes`` and ``billable_minutes``
    are what the reservation is billed for: as priced while its state counts for the quota, 0 once
    it does not (cancelled: its ``cancellation_fee`` is what is billed; rejected: nothing), so the
    free minutes add up to what the quota usage says was used."""
    query = (
        select(
            Reservation.id,
            Space.code.label("space_code"),
            Space.name.label("space_name"),
            Space.name_zh.label("space_name_zh"),
            Reservation.org_id,
            directory.c.name.label("organisation_name"),
            directory.c.name_zh.label("organisation_name_zh"),
            Reservation.booked_by_name,
            Reservation.title,
            Reservation.starts_at,
            Reservation.ends_at,
            Reservation.status,
            Reservation.price,
            Reservation.currency,
            Reservation.quota_minutes,
            Reservation.billable_minutes,
            Reservation.cancellation_fee,
        )
        .join(Space, Space.id == Reservation.space_id)
        .outerjoin(directory, directory.c.id == Reservation.org_id)
        .where(Reservation.starts_at >= period.start, Reservation.starts_at < period.end)
        .order_by(Reservation.starts_at, Reservation.id)
        .execution_options(yield_per=batch)
    )
    if org_id is not None:
        query = query.where(Reservation.org_id == org_id)
    for row in session.execute(query):
        line = dict(row._mapping)
        if not counts_for_quota(line["status"]):
            line["quota_minutes"] = line["billable_minutes"] = 0  # priced once, never used
        yield line
