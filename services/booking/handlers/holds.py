"""Holding a meeting room for another service (``booking.room_hold.requested``).

Booking places the hold as the requesting tenant would (every rule, approval included) in the
first space that fits, smallest first. The answer is the reservation's own event
(``requested``/``confirmed``, later ``confirmed`` or ``rejected`` by desk staff) or, when no
space could take it, ``booking.reservation.rejected`` with no reservation and the rule that
refused it. Every one carries ``request_id``; the envelope carries the request's correlation id,
the later ones too (the reservation keeps it). Each request (requester, ``request_id``) is
evaluated once: its answer is recorded in ``hold_requests``, and the same request re-sent as
another event is not evaluated again, placed or refused.

A refusal names up to :data:`ALTERNATIVES` nearest free slots (``alternatives``): another space
that fits at the asked time first, then the first space that fits at the nearest free times of
the same length, earlier or later the same day and on the next :data:`ALTERNATIVE_DAYS` days,
judged by booking's own rules (opening hours, grid, lead time, closures, holds). Bounded: the
rules' pure checks first, at most :data:`MAX_LOOKS` slots looked up in the database.

``booking.room_hold.released`` (:func:`release_room`): the requester no longer needs the hold;
the reservation placed for (requester, ``request_id``) is cancelled by the system without a fee
(``booking.reservation.cancelled`` with ``request_id``). Nothing placed, or ended already:
nothing. Released before the request arrived: the request is recorded as answered
(``released``), so it is never placed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.booking.commands import VisitorDetails
from services.booking.handlers import quota
from services.booking.handlers.common import (
    booking_organisation,
    check_free,
    closures_meeting,
    organisation,
    policy_for,
)
from services.booking.handlers.reservations import place
from services.booking.handlers.transitions import transition
from services.booking.models import HoldRequest, Reservation, Space
from services.booking.rules import Interval, check_request
from shared.clock import PARK_TZ, utcnow
from shared.db import UnitOfWork
from shared.errors import DomainError
from shared.events import Event
from shared.i18n import _
from shared.principal import Principal

NO_SPACE_FITS = _("No active space of that kind fits the attendees, layout and equipment.")

ALTERNATIVES = 3
"""At most this many free slots are offered with a refused room hold."""
ALTERNATIVE_DAYS = 7
"""How far ahead alternatives are looked for (calendar days after the asked one)."""
STEP = timedelta(minutes=30)
MAX_LOOKS = 120
"""Slots that passed the pure rules and are looked up in the database (closures, holds), at most."""

RELEASER = Principal(
    subject="system:booking",
    org_id="",
    org_kind="operator",
    roles=frozenset({"desk_staff"}),
    name="ParkHub booking",
)
"""Who cancels a released hold: the system, with the desk's leeway (no fee, also once begun)."""


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _candidates(uow: UnitOfWork, data: dict[str, Any], *, any_space: bool = False) -> list[Space]:
    """The spaces that fit the request, smallest first: the one it names (unless ``any_space``:
    every active one of its kind that fits)."""
    kind = data.get("space_kind") or "conference_room"
    if data.get("space_id"):
        space = uow.session.get(Space, str(data["space_id"]))
        if not any_space:
            return [space] if space is not None and space.active else []
        if space is not None:
            kind = space.kind
    query = (
        select(Space)
        .where(Space.active.is_(True), Space.kind == kind, Space.capacity >= data["attendees"])
        .order_by(Space.capacity, Space.code)
    )
    wanted = set(data.get("equipment") or ())
    layout = data.get("layout")
    return [
        space
        for space in uow.session.execute(query).scalars()
        if wanted <= set(space.equipment or ()) and (layout is None or layout in (space.layouts or {}))
    ]


def _free(
    uow: UnitOfWork, space: Space, usage: Interval, data: dict[str, Any], *, now: datetime, looks: list[int]
) -> bool:
    """Whether ``space`` could take ``usage`` for the request: the pure rules first (no query),
    then closures and holds (one look of the budget ``looks``)."""
    try:
        check_request(space.policy(), usage, attendees=data["attendees"], layout=data.get("layout"), now=now)
    except DomainError:
        return False
    if looks[0] <= 0:
        return False
    looks[0] -= 1
    try:
        policy = policy_for(uow, space, usage)
        hold = policy.hold_of(usage)
        check_request(
            policy,
            usage,
            attendees=data["attendees"],
            layout=data.get("layout"),
            now=now,
            closures=closures_meeting(uow, space.id, hold),
        )
        check_free(uow, space.id, hold)
    except DomainError:
        return False
    return True


def alternatives(uow: UnitOfWork, data: dict[str, Any], usage: Interval, now: datetime) -> list[dict[str, Any]]:
    """Up to :data:`ALTERNATIVES` free slots near ``usage`` of the same length, nearest first:
    another fitting space at the asked time first, then the first fitting space at each nearest
    free time (every :data:`STEP`, earlier the same park day or later up to
    :data:`ALTERNATIVE_DAYS` days on, in the future; at the same distance the later first). One
    per time; none when no space fits at all."""
    spaces = _candidates(uow, data, any_space=True)
    if not spaces:
        return []
    asked = str(data["space_id"]) if data.get("space_id") else None
    length = usage.end - usage.start
    asked_day = usage.start.astimezone(PARK_TZ)
    day_start = asked_day.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    horizon = usage.start + timedelta(days=ALTERNATIVE_DAYS)
    steps = int((horizon - day_start) / STEP)
    offsets = sorted(range(-int((usage.start - day_start) / STEP), steps + 1), key=lambda n: (abs(n), n < 0))
    looks = [MAX_LOOKS]
    found: list[dict[str, Any]] = []
    for n in offsets:
        start = usage.start + n * STEP
        if start <= now:
            continue
        slot = Interval(start, start + length)
        for space in spaces:
            if n == 0 and space.id == asked:
                continue  # the asked space at the asked time is what was refused
            if _free(uow, space, slot, data, now=now, looks=looks):
                found.append(
                    {
                        "space_id": space.id,
                        "space_name": space.name,
                        "space_name_zh": space.name_zh,
                        "starts_at": slot.start.isoformat(),
                        "ends_at": slot.end.isoformat(),
                    }
                )
                break
        if len(found) >= ALTERNATIVES or looks[0] <= 0:
            break
    return found


def _answered(
    uow: UnitOfWork, data: dict[str, Any], outcome: str, reservation_id: str | None, rule: str | None
) -> None:
    uow.session.add(
        HoldRequest(
            requester=data["requester"],
            request_id=data["request_id"],
            outcome=outcome,
            reservation_id=reservation_id,
            rule=rule,
            at=utcnow(),
        )
    )
    uow.session.flush()


def hold_room(event: Event, *, uow: UnitOfWork) -> None:
    """Place the hold or refuse it, once per (requester, ``request_id``). Publishes the
    reservation's ``requested``/``confirmed``, or ``rejected`` with no reservation."""
    data = event.data
    if uow.session.get(HoldRequest, (data["requester"], data["request_id"])) is not None:
        return  # the same request sent again (as another event): it was answered already
    known = organisation(uow, data["org_id"])
    actor = Principal(
        subject=data["requested_by"],
        org_id=data["org_id"],
        org_kind=known["kind"] if known else "tenant",
        roles=frozenset({"tenant_member"}),
        name=data.get("requested_by_name") or "",
    )
    usage = Interval(_moment(data["starts_at"]), _moment(data["ends_at"]))
    visitors = tuple(VisitorDetails(v["name"], v.get("company"), v.get("car_plate")) for v in data.get("visitors", ()))
    refusal: DomainError | None = None
    for space in _candidates(uow, data):
        try:
            with uow.session.begin_nested():
                org_id, org_kind = booking_organisation(uow, actor, None)
                reservation = place(
                    uow,
                    actor=actor,
                    space=space,
                    usage=usage,
                    org_id=org_id,
                    org_kind=org_kind,
                    title=data["title"],
                    attendees=data["attendees"],
                    layout=data.get("layout"),
                    visitors=visitors,
                    request_id=data["request_id"],
                    requester=data["requester"],
                )
            quota.settle(uow)
            _answered(uow, data, reservation.status, reservation.id, None)
            return
        except DomainError as error:
            refusal = refusal or error
    code = refusal.code if refusal else "rule/no-space-fits"
    # The event carries the English text (events are read by machines, not in a reader's language).
    reason = str(refusal.detail if refusal else NO_SPACE_FITS)
    _answered(uow, data, "rejected", None, code)
    offered = alternatives(uow, data, usage, utcnow())
    uow.publish(
        "booking.reservation.rejected",
        {
            "reservation_id": None,
            "status": "rejected",
            "org_id": data["org_id"],
            "space_id": str(data["space_id"]) if data.get("space_id") else None,
            "title": data["title"],
            "attendees": data["attendees"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "reason": reason,
            "rule": code,
            "request_id": data["request_id"],
            "booked_by": data["requested_by"],
            "alternatives": offered,
        },
        subject=f"room-holds/{data['request_id']}",
        orgid=data["org_id"],
    )


def release_room(event: Event, *, uow: UnitOfWork) -> None:
    """The requester no longer needs the hold (requester, ``request_id``): the reservation placed
    for it is cancelled by the system, without a fee, publishing ``booking.reservation.cancelled``
    (with ``request_id``, under the request's correlation id). Nothing placed, refused, cancelled
    or ended already: nothing (so a repeat changes nothing). A release that comes before its
    request is recorded as the request's answer, so the request is never placed."""
    data = event.data
    answered = uow.session.get(HoldRequest, (data["requester"], data["request_id"]))
    if answered is None:
        _answered(uow, data, "released", None, None)
        return
    if answered.reservation_id is None:
        return
    reservation = uow.session.get(Reservation, answered.reservation_id, with_for_update=True)
    now = utcnow()
    if reservation is None or reservation.status not in ("pending_approval", "confirmed") or reservation.end_utc <= now:
        return
    reason = (data.get("reason") or "").strip() or str(
        _("The room is no longer needed: {requester} released it.", requester=data["requester"])
    )
    transition(uow, reservation, "cancel", actor=RELEASER, reason=reason, now=now)
    quota.settle(uow)
