"""Contracts of booking's events (``booking.reservation.*``) and of the request to hold a room.

``booking.reservation.<verb>`` carries one reservation as a consumer needs it: the space, the
organisation, the times in UTC, attendees, visitors and the price. ``request_id`` is set when the
reservation answers a ``booking.room_hold.requested`` from another service.

Every event of one reservation carries, in its envelope's ``correlationid``, the correlation id
of the request that made the reservation: for a room hold the requesting event's, also on the
answers that come days later (desk staff approving or rejecting, a cancellation, a reschedule).

``booking.room_hold.requested`` is the one event booking consumes that asks it to act: another
service (consulting, for a meeting with a partner firm) asks for a room on behalf of a tenant.
Booking answers with ``booking.reservation.confirmed`` (or ``requested`` first, when the space
needs approval, and later ``confirmed`` or ``rejected``) or ``booking.reservation.rejected``
with no reservation. **Consumers match answers to their requests on ``data.request_id``** (with
``requester``, unique per requesting service); the correlation id is for tracing. Booking
evaluates each ``(requester, request_id)`` once: re-sending it (even after a refusal) changes
nothing and publishes nothing.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import Schema, fields, validate

from shared.events.contracts import Contract, register

RESERVATION_STATUSES = (
    "pending_approval",
    "confirmed",
    "rejected",
    "cancelled",
    "checked_in",
    "completed",
    "no_show",
)
SPACE_KINDS = (
    "conference_room",
    "science_hall",
    "scientists_club",
    "exhibition_hall",
    "release_square",
    "basketball_court",
    "badminton_court",
)


class UtcDateTime(fields.AwareDateTime):
    """An instant with an offset on the way in, UTC written with ``Z`` on the way out."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return str(value.astimezone(UTC).isoformat()).replace("+00:00", "Z")


PLATE_KINDS = ("mainland", "other")
PURPOSES = ("roadshow", "product_launch")
"""What an event booking (exhibition hall, release square) is for: a financing roadshow of a
tenant with an accepted venture-capital or guide-fund offer, or a product launch."""


class VisitorV1(Schema):
    """An external visitor. ``car_plate`` as booking stores it (a mainland plate in one spelling:
    no spaces or dots, upper case); ``plate_kind`` says which kind it is, ``mainland`` or ``other``
    (foreign, Hong Kong, Macao, military …), null without a plate. Added to v1 as an optional field:
    a consumer that does not know it drops it. In a room-hold request booking does not read it:
    it decides the kind of a plate it is sent itself."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    company = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    car_plate = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16))
    plate_kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(PLATE_KINDS))


class ReservationV1(Schema):
    """One reservation after the change the event names. Times are UTC; money a decimal string."""

    reservation_id = fields.UUID(required=True)
    status = fields.String(required=True, validate=validate.OneOf(RESERVATION_STATUSES))
    space_id = fields.UUID(required=True)
    space_name = fields.String(required=True)
    space_name_zh = fields.String(required=True)
    space_kind = fields.String(required=True, validate=validate.OneOf(SPACE_KINDS))
    building = fields.String(load_default=None, allow_none=True)
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    org_name = fields.String(load_default=None, allow_none=True)
    booked_by = fields.String(required=True)
    booked_by_name = fields.String(load_default=None, allow_none=True)
    title = fields.String(required=True)
    attendees = fields.Integer(required=True, validate=validate.Range(min=1))
    layout = fields.String(load_default=None, allow_none=True)
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)
    price = fields.Decimal(required=True, as_string=True, places=2)
    currency = fields.String(required=True, validate=validate.OneOf(("CNY",)))
    cancellation_fee = fields.Decimal(load_default=None, allow_none=True, as_string=True, places=2)
    series_id = fields.UUID(load_default=None, allow_none=True)
    visitors = fields.List(fields.Nested(VisitorV1), load_default=list)
    reason = fields.String(load_default=None, allow_none=True)
    request_id = fields.String(load_default=None, allow_none=True)
    purpose = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(PURPOSES),
        metadata={"description": "what an event booking is for; null for an ordinary booking"},
    )
    purpose_ref = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=64),
        metadata={"description": "roadshow: the financing application whose accepted offer it presents"},
    )
    previous_starts_at = UtcDateTime(load_default=None, allow_none=True)
    previous_ends_at = UtcDateTime(load_default=None, allow_none=True)
    previous_space_id = fields.UUID(load_default=None, allow_none=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))


class AlternativeV1(Schema):
    """A free slot near a room hold booking could not place: another fitting space at the asked
    time, or the asked space at another time, nearest first."""

    space_id = fields.UUID(required=True)
    space_name = fields.String(required=True)
    space_name_zh = fields.String(required=True)
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)


class ReservationRejectedV1(ReservationV1):
    """A rejection. When booking could not place a room hold another service asked for, no
    reservation exists: ``reservation_id`` and the space's fields are null, and ``rule`` names the
    rule that refused it."""

    reservation_id = fields.UUID(load_default=None, allow_none=True)
    space_id = fields.UUID(load_default=None, allow_none=True)
    space_name = fields.String(load_default=None, allow_none=True)
    space_name_zh = fields.String(load_default=None, allow_none=True)
    space_kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(SPACE_KINDS))
    booked_by = fields.String(load_default=None, allow_none=True)
    title = fields.String(load_default=None, allow_none=True)
    attendees = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    price = fields.Decimal(load_default=None, allow_none=True, as_string=True, places=2)
    currency = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("CNY",)))
    version = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    rule = fields.String(load_default=None, allow_none=True, metadata={"description": "problem code of the rule"})
    alternatives = fields.List(
        fields.Nested(AlternativeV1),
        load_default=list,
        metadata={"description": "a room hold that could not be placed: the nearest free slots (at most 3)"},
    )


class RoomHoldRequestedV1(Schema):
    """Another service asks booking to hold a meeting room for a tenant."""

    request_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    requester = fields.String(required=True, validate=validate.Length(min=1, max=40))
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    requested_by = fields.String(required=True, validate=validate.Length(min=1, max=120))
    requested_by_name = fields.String(load_default=None, allow_none=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)
    attendees = fields.Integer(required=True, validate=validate.Range(min=1, max=5000))
    space_id = fields.UUID(load_default=None, allow_none=True)
    space_kind = fields.String(load_default="conference_room", validate=validate.OneOf(SPACE_KINDS))
    layout = fields.String(load_default=None, allow_none=True)
    equipment = fields.List(fields.String(), load_default=list)
    visitors = fields.List(fields.Nested(VisitorV1), load_default=list)


class RoomHoldReleasedV1(Schema):
    """The service that asked for a room hold no longer needs it (its meeting or case was
    cancelled): booking cancels the reservation it placed for (``requester``, ``request_id``),
    without a fee, or does nothing when it placed none or it ended already."""

    request_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    requester = fields.String(required=True, validate=validate.Length(min=1, max=40))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class BoothsChangedV1(Schema):
    """One booth of a hall booking let to an exhibitor or released. The booth stands with the
    hall's reservation (``status``): it waits for the hall's approval and falls with the hall's
    cancellation or rejection, which publish the reservation's own events, not this one."""

    reservation_id = fields.UUID(required=True)
    status = fields.String(required=True, validate=validate.OneOf(RESERVATION_STATUSES))
    space_id = fields.UUID(required=True)
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)
    change = fields.String(required=True, validate=validate.OneOf(("let", "released")))
    booth = fields.Integer(required=True, validate=validate.Range(min=1))
    exhibitor = fields.String(required=True, validate=validate.Length(min=1, max=200))
    exhibitor_org_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    booths = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1), metadata={"description": "hall's booths"}
    )
    booths_let = fields.Integer(
        required=True, validate=validate.Range(min=0), metadata={"description": "booths let after this change"}
    )


EDITABLE_DETAILS = ("title", "attendees", "layout", "note", "visitors")
"""What ``PATCH /reservations/{id}`` may change (time and space are a reschedule)."""


class ReservationChangedV1(ReservationV1):
    """A reservation's details were edited; the payload is the reservation after the change."""

    changes = fields.List(
        fields.String(validate=validate.OneOf(EDITABLE_DETAILS)),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "the details that changed"},
    )
    previous_status = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(RESERVATION_STATUSES),
        metadata={"description": "set when the change moved the state: a tenant's change that needs approval"},
    )


def _reservation(verb: str, description: str) -> Contract:
    return register(Contract(f"booking.reservation.{verb}", 1, ReservationV1, description))


RESERVATION_REQUESTED = _reservation("requested", "A reservation waits for desk staff's approval.")
RESERVATION_CONFIRMED = _reservation("confirmed", "A reservation holds its space (approved, or needing none).")
RESERVATION_CANCELLED = _reservation("cancelled", "A reservation was cancelled; cancellation_fee says what is due.")
RESERVATION_RESCHEDULED = _reservation("rescheduled", "A reservation moved; previous_* say from where.")
RESERVATION_CHECKED_IN = _reservation("checked_in", "The organiser checked in.")
RESERVATION_NO_SHOW = _reservation("no_show", "Nobody checked in; the space was released.")
RESERVATION_COMPLETED = _reservation("completed", "A reservation ended after a check-in.")
RESERVATION_VISITORS_CHANGED = _reservation(
    "visitors_changed", "The external visitors of a reservation changed; visitors is the whole new list."
)
RESERVATION_BOOTHS_CHANGED = register(
    Contract(
        "booking.reservation.booths_changed",
        1,
        BoothsChangedV1,
        "A booth of a hall booking was let to an exhibitor or released; status is the hall reservation's.",
    )
)
RESERVATION_CHANGED = register(
    Contract(
        "booking.reservation.changed",
        1,
        ReservationChangedV1,
        "A reservation's title, attendees, layout, note or visitors changed (changes names which). A tenant's "
        "change that makes approval necessary sends a confirmed reservation back to pending_approval "
        "(previous_status: confirmed). A change of visitors also publishes visitors_changed.",
    )
)
RESERVATION_REJECTED = register(
    Contract(
        "booking.reservation.rejected",
        1,
        ReservationRejectedV1,
        "Desk staff rejected a reservation, it was not approved before its start, or a room hold "
        "another service asked for could not be placed (then reservation_id is null and rule says why).",
    )
)
ROOM_HOLD_REQUESTED = register(
    Contract("booking.room_hold.requested", 1, RoomHoldRequestedV1, "Hold a meeting room on behalf of a tenant.")
)
ROOM_HOLD_RELEASED = register(
    Contract(
        "booking.room_hold.released",
        1,
        RoomHoldReleasedV1,
        "The requester of a room hold no longer needs it: booking cancels the reservation it placed, without a fee.",
    )
)
