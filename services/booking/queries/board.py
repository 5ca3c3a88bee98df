"""The desk's day board and the gate list: what the park's desk walks and what its gate expects.

The board lists every space (active ones, and any other that has a booking in the window) with
the reservations that hold or held it in the window, buffers included, so the desk also sees a
hall being set up the evening before. The gate list names the visitors (and their car plates) of
the reservations that hold a space on a day. Both read the organisation directory once for the
names in both languages. Instants stay as stored (UTC); the schemas answer them in park time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.booking.models import BoothBooking, Closure, Reservation, Space, Visitor, directory
from services.booking.queries.views import space_summary
from services.booking.rules import HOLDING, MAX_HOLD, Interval
from services.booking.rules.policy import check_in_state
from shared.clock import PARK_TZ, as_utc, utcnow

ON_THE_BOARD = ("pending_approval", "confirmed", "checked_in", "completed", "no_show")
"""The states a reservation is shown on the board in: those that hold the space, and those that
held it (a completed meeting, a no-show). Cancelled and rejected ones left the space free."""


@dataclass(frozen=True)
class Window:
    """Whole park days ``first`` … ``first + days - 1`` as one UTC interval."""

    first: date
    days: int

    @property
    def last(self) -> date:
        return self.first + timedelta(days=self.days - 1)

    @property
    def interval(self) -> Interval:
        start = datetime.combine(self.first, time(0), PARK_TZ)
        return Interval(as_utc(start), as_utc(datetime.combine(self.last + timedelta(days=1), time(0), PARK_TZ)))


def check_in(reservation: Reservation, now: datetime) -> dict[str, Any]:
    """The reservation's check-in as the desk reads it at ``now`` (the rule:
    :func:`services.booking.rules.policy.check_in_state`)."""
    usage = Interval(reservation.start_utc, reservation.end_utc)
    state = check_in_state(
        reservation.space.policy(),
        usage,
        status=reservation.status,
        checked_in_at=reservation.checked_in_at,
        now=now,
    )
    return asdict(state)


def organisations(session: Session, org_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{id: {"id", "name", "name_zh"}}`` from booking's directory (one read); an organisation
    the directory does not know is answered with its id and no name."""
    wanted = set(org_ids)
    found: dict[str, dict[str, Any]] = {}
    if wanted:
        rows = session.execute(
            select(directory.c.id, directory.c.name, directory.c.name_zh).where(directory.c.id.in_(wanted))
        )
        found = {row.id: {"id": row.id, "name": row.name, "name_zh": row.name_zh} for row in rows}
    return {org_id: found.get(org_id, {"id": org_id, "name": None, "name_zh": None}) for org_id in wanted}


def _holding_in(window: Interval, statuses: Iterable[str]) -> list[Any]:
    # A hold is never longer than MAX_HOLD: one bounded range of ix_reservations_space_id_hold_start.
    return [
        Reservation.hold_start >= window.start - MAX_HOLD,
        Reservation.hold_start < window.end,
        Reservation.hold_end > window.start,
        Reservation.status.in_(tuple(statuses)),
    ]


def day_board(
    session: Session, window: Window, *, building: str | None = None, kind: str | None = None
) -> dict[str, Any]:
    """Every space (filtered by ``building`` and ``kind``) with the reservations on it in
    ``window``: who booked it, state, title, attendees, layout, buffers (``hold``), check-in, and
    the booths let inside it; closures of the window too. Spaces by building, floor and code."""
    span = window.interval
    query = select(Reservation).where(*_holding_in(span, ON_THE_BOARD)).join(Reservation.space)
    if building:
        query = query.where(Space.building == building)
    if kind:
        query = query.where(Space.kind == kind)
    reservations = list(session.execute(query.order_by(Reservation.starts_at, Reservation.id)).scalars())
    by_space: dict[str, list[Reservation]] = defaultdict(list)
    for reservation in reservations:
        by_space[reservation.space_id].append(reservation)

    spaces_query = select(Space).where(or_(Space.active.is_(True), Space.id.in_(list(by_space))))
    if building:
        spaces_query = spaces_query.where(Space.building == building)
    if kind:
        spaces_query = spaces_query.where(Space.kind == kind)
    spaces = sorted(session.execute(spaces_query).scalars(), key=lambda s: (s.building, s.floor or "", s.code))

    booths = _booths_let(session, [r.id for r in reservations])
    closures = _closures(session, [s.id for s in spaces], span)
    names = organisations(session, {r.org_id for r in reservations})
    now = utcnow()
    return {
        "from_": window.first,
        "to": window.last,
        "days": window.days,
        "timezone": str(PARK_TZ),
        "generated_at": now,
        "building": building,
        "kind": kind,
        "spaces": [
            {
                **space_summary(space),
                "booths": space.booths,
                "closures": closures.get(space.id, []),
                "reservations": [
                    _on_the_board(r, names[r.org_id], booths.get(r.id, 0), now) for r in by_space[space.id]
                ],
            }
            for space in spaces
        ],
    }


def _on_the_board(reservation: Reservation, organisation: dict[str, Any], booths: int, now: datetime) -> dict[str, Any]:
    return {
        "id": reservation.id,
        "status": reservation.status,
        "organisation": organisation,
        "booked_by_name": reservation.booked_by_name,
        "title": reservation.title,
        "attendees": reservation.attendees,
        "layout": reservation.layout,
        "note": reservation.note,
        "start": reservation.starts_at,
        "end": reservation.ends_at,
        "hold": {"start": reservation.hold_start, "end": reservation.hold_end},
        "setup_minutes": int((reservation.start_utc - as_utc(reservation.hold_start)).total_seconds() // 60),
        "cleanup_minutes": int((as_utc(reservation.hold_end) - reservation.end_utc).total_seconds() // 60),
        "check_in": check_in(reservation, now),
        "visitors": len(reservation.visitors),
        "booths_let": booths,
        "series_id": reservation.series_id,
    }


def _booths_let(session: Session, reservation_ids: list[str]) -> dict[str, int]:
    if not reservation_ids:
        return {}
    rows = session.execute(
        select(BoothBooking.reservation_id, func.count())
        .where(BoothBooking.reservation_id.in_(reservation_ids))
        .group_by(BoothBooking.reservation_id)
    )
    return {reservation_id: int(count) for reservation_id, count in rows}


def _closures(session: Session, space_ids: list[str], span: Interval) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if space_ids:
        rows = session.execute(
            select(Closure)
            .where(Closure.space_id.in_(space_ids), Closure.starts_at < span.end, Closure.ends_at > span.start)
            .order_by(Closure.starts_at)
        ).scalars()
        for closure in rows:
            found[closure.space_id].append(
                {"start": closure.starts_at, "end": closure.ends_at, "reason": closure.reason}
            )
    return found


def gate_list(session: Session, day: date) -> dict[str, Any]:
    """The visitors expected on ``day`` (park time): those of every reservation that holds a
    space and is in use that day (its start to its end, not its buffers), by arrival time, space
    and name, each with the car plate and its kind when given."""
    span = Window(day, 1).interval
    rows = session.execute(
        select(Visitor, Reservation)
        .join(Reservation, Visitor.reservation_id == Reservation.id)
        .where(
            *_holding_in(span, HOLDING),
            Reservation.starts_at < span.end,
            Reservation.ends_at > span.start,
        )
        .order_by(Reservation.starts_at, Reservation.id, Visitor.name, Visitor.id)
    ).all()
    names = organisations(session, {reservation.org_id for _visitor, reservation in rows})
    visitors = [
        {
            "name": visitor.name,
            "company": visitor.company,
            "car_plate": visitor.car_plate,
            "plate_kind": visitor.plate_kind if visitor.car_plate else None,
            "reservation": {
                "id": reservation.id,
                "status": reservation.status,
                "title": reservation.title,
                "start": reservation.starts_at,
                "end": reservation.ends_at,
                "booked_by_name": reservation.booked_by_name,
            },
            "space": space_summary(reservation.space),
            "organisation": names[reservation.org_id],
        }
        for visitor, reservation in rows
    ]
    return {
        "date": day,
        "timezone": str(PARK_TZ),
        "generated_at": utcnow(),
        "visitors": visitors,
        "cars": sum(1 for v in visitors if v["car_plate"]),
    }
