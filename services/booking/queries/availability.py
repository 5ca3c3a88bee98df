"""Availability: which spaces fit and when they are free; the timeline of one space.

The search reads the candidate spaces (at most the park's thousand or so), then the holds of
all of them in one query that is a bounded range on ``ix_reservations_space_id_hold_start`` per
space: ``hold_start`` between the window's start minus :data:`MAX_HOLD` and its end. Its cost
follows the reservations *inside* the window, not the table's size (see docs/PERFORMANCE.md).
Others' reservations appear only as busy intervals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.booking.models import Closure, Reservation, Space, holds_meeting
from services.booking.permissions import RIGHTS, can_see, confirmed_at_once, desk_leeway
from services.booking.queries.park_days import park_days_around, policy_of
from services.booking.queries.profiles import profiles_of
from services.booking.queries.views import interval, space_summary
from services.booking.rules import Interval, free_intervals, needs_approval, opening_intervals
from shared.clock import PARK_TZ, as_utc, utcnow
from shared.errors import NotFound, RuleViolation
from shared.i18n import _
from shared.principal import Principal

MAX_WINDOW = timedelta(days=31)


def _window(start: datetime, end: datetime) -> Interval:
    window = Interval(as_utc(start), as_utc(end))
    if window.end <= window.start:
        raise RuleViolation(_("The end must come after the start."), code="rule/end-after-start")
    if window.end - window.start > MAX_WINDOW:
        raise RuleViolation(_("Search at most {days} days at once.", days=MAX_WINDOW.days), code="rule/search-window")
    return window


def holds_of(session: Session, space_ids: Sequence[str], window: Interval, margin: timedelta) -> dict[str, list[Any]]:
    """Holding reservations of ``space_ids`` that meet ``window`` widened by ``margin``."""
    lo, hi = window.start - margin, window.end + margin
    query = select(
        Reservation.space_id,
        Reservation.id,
        Reservation.hold_start,
        Reservation.hold_end,
        Reservation.starts_at,
        Reservation.ends_at,
        Reservation.org_id,
        Reservation.status,
        Reservation.title,
    ).where(Reservation.space_id.in_(space_ids), *holds_meeting(session, lo, hi))
    found: dict[str, list[Any]] = defaultdict(list)
    for row in session.execute(query):
        found[row.space_id].append(row)
    return found


def closures_of(
    session: Session, space_ids: Sequence[str], window: Interval, margin: timedelta
) -> dict[str, list[Interval]]:
    lo, hi = window.start - margin, window.end + margin
    query = select(Closure.space_id, Closure.starts_at, Closure.ends_at).where(
        Closure.space_id.in_(space_ids), Closure.starts_at < hi, Closure.ends_at > lo
    )
    found: dict[str, list[Interval]] = defaultdict(list)
    for space_id, starts_at, ends_at in session.execute(query):
        found[space_id].append(Interval(as_utc(starts_at), as_utc(ends_at)))
    return found


def _margin(spaces: Sequence[Space]) -> timedelta:
    return timedelta(minutes=max((max(s.setup_minutes, s.cleanup_minutes) for s in spaces), default=0))


def search(session: Session, actor: Principal, args: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The spaces that fit (kind, attendees, layout, equipment) with their free intervals in the
    window; only spaces with a free interval of at least ``duration_minutes`` are listed.

    The candidates are read as (id, version) only; their rules come from the profile cache
    (:mod:`services.booking.queries.profiles`), so no JSON is decoded for a known space version.
    """
    now = now or utcnow()
    window = _window(args["start"], args["end"])
    attendees = args.get("attendees") or 1
    query = select(Space.id, Space.version, Space.closes_on_public_holidays).where(
        Space.active.is_(True), Space.capacity >= attendees
    )
    if args.get("kind"):
        query = query.where(Space.kind.in_(args["kind"]))
    if args.get("space_id"):
        query = query.where(Space.id.in_([str(s) for s in args["space_id"]]))
    rows = session.execute(query.order_by(Space.capacity, Space.code)).all()
    keys = [(row.id, row.version) for row in rows]
    closing = {row.id for row in rows if row.closes_on_public_holidays}  # they follow the park's calendar
    wanted = set(args.get("equipment") or ())
    layout = args.get("layout")
    spaces = [
        profile
        for profile in profiles_of(session, keys)
        if wanted <= profile.equipment and (layout is None or profile.layouts.get(layout, 0) >= attendees)
    ]
    ids = [s.id for s in spaces]
    margin = timedelta(minutes=max((s.margin_minutes for s in spaces), default=0))
    holds = holds_of(session, ids, window, margin) if ids else {}
    closures = closures_of(session, ids, window, margin) if ids else {}
    park_days = park_days_around(session, window, margin) if closing.intersection(ids) else {}
    need = timedelta(minutes=args.get("duration_minutes") or 0)
    results = []
    for space in spaces:
        free = free_intervals(
            replace(space.policy, park_days=park_days) if space.id in closing else space.policy,
            window,
            holds=[Interval(as_utc(r.hold_start), as_utc(r.hold_end)) for r in holds.get(space.id, ())],
            closures=closures.get(space.id, ()),
            now=now,
            staff=desk_leeway(actor),
        )
        longest = max((f.end - f.start for f in free), default=timedelta(0))
        if free and longest >= need:
            results.append(
                {
                    "space": space.summary,
                    "free": [interval(f) for f in free],
                    "free_minutes": sum(f.minutes for f in free),
                    # What would happen if this caller booked: staff's bookings are confirmed at once.
                    "needs_approval": needs_approval(space.policy, attendees) and not confirmed_at_once(actor),
                    "hourly_price": {"amount": space.hourly_price, "currency": space.currency},
                }
            )
    page, size = args.get("page", 1), args.get("page_size", 50)
    return {
        "window": interval(window),
        "items": results[(page - 1) * size : page * size],
        "page": page,
        "page_size": size,
        "total": len(results),
    }


def timeline(
    session: Session, actor: Principal, space_id: str, day: date, *, days: int, now: datetime | None = None
) -> dict[str, Any]:
    """A day or a week of one space: opening hours, closures, busy and free intervals. Busy
    intervals name the reservation only for its own organisation and staff."""
    now = now or utcnow()
    space = session.get(Space, space_id)
    if space is None or not (space.active or RIGHTS.allows(actor, "read_inactive_spaces")):
        raise NotFound(_("There is no space {id}.", id=space_id))
    start = datetime.combine(day, time(0), PARK_TZ)
    window = Interval(as_utc(start), as_utc(start + timedelta(days=days)))
    margin = _margin([space])
    rows = holds_of(session, [space.id], window, margin).get(space.id, [])
    closures = closures_of(session, [space.id], window, margin).get(space.id, [])
    policy = policy_of(session, space, window, margin)
    busy = []
    for row in sorted(rows, key=lambda r: r.hold_start):
        entry: dict[str, Any] = {
            "start": row.starts_at,
            "end": row.ends_at,
            "hold_start": row.hold_start,
            "hold_end": row.hold_end,
        }
        if can_see(actor, row):
            entry.update(reservation_id=row.id, title=row.title, status=row.status, mine=row.org_id == actor.org_id)
        busy.append(entry)
    free = free_intervals(
        policy,
        window,
        holds=[Interval(as_utc(r.hold_start), as_utc(r.hold_end)) for r in rows],
        closures=closures,
        now=now,
        staff=desk_leeway(actor),
    )
    return {
        "space": space_summary(space),
        "window": interval(window),
        "timezone": str(PARK_TZ),
        "open": [interval(i) for i in opening_intervals(policy.opening_hours, window, policy.park_days)],
        "closures": [interval(c) for c in closures],
        "busy": busy,
        "free": [interval(f) for f in free],
    }
