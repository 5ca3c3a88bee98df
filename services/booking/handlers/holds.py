"""Holding a meeting room for another service (``booking.room_hold.requested``).

Booking places the hold as the requesting tenant would (every rule, approval included) in the
first space that fits, smallest first. The answer is the reservation's own event
(``requested``/``confirmed``, later ``confirmed`` or ``rejected`` by desk staff) or, when no
space could take it, ``booking.reservation.rejected`` with no reservation and the rule that
refused it. Every one carries ``request_id``; the envelope carries the request's correlation id,
the later ones too (the reservation keeps it). Each request (requester, ``request_id``) is
evaluated once: its answer is recorded in ``hold_requests``, and the same request re-sent as
another event is not evaluated again, placed or refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from services.booking.commands import VisitorDetails
from services.booking.handlers import quota
from services.booking.handlers.common import booking_organisation, organisation
from services.booking.handlers.reservations import place
from services.booking.models import HoldRequest, Space
from services.booking.rules import Interval
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import DomainError
from shared.events import Event
from shared.i18n import _
from shared.principal import Principal

NO_SPACE_FITS = _("No active space of that kind fits the attendees, layout and equipment.")


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _candidates(uow: UnitOfWork, data: dict[str, Any]) -> list[Space]:
    if data.get("space_id"):
        space = uow.session.get(Space, str(data["space_id"]))
        return [space] if space is not None and space.active else []
    query = (
        select(Space)
        .where(Space.active.is_(True), Space.kind == data["space_kind"], Space.capacity >= data["attendees"])
        .order_by(Space.capacity, Space.code)
    )
    wanted = set(data.get("equipment") or ())
    layout = data.get("layout")
    return [
        space
        for space in uow.session.execute(query).scalars()
        if wanted <= set(space.equipment or ()) and (layout is None or layout in (space.layouts or {}))
    ]


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
        },
        subject=f"room-holds/{data['request_id']}",
        orgid=data["org_id"],
    )
