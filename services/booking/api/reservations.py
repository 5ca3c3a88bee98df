"""``/reservations``: book, read, list, and the actions that move a reservation along.

Creating takes ``Idempotency-Key``; every action takes ``If-Match`` with the ``ETag`` last read
(428 without, 412 when stale) and answers the reservation with its new ``ETag``.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.booking import handlers
from services.booking.api.caller import actor, execute, reading
from services.booking.api.schemas.reservations import (
    HistorySchema,
    ReasonSchema,
    RescheduleSchema,
    ReservationInSchema,
    ReservationQuerySchema,
    ReservationSchema,
    VisitorsInSchema,
)
from services.booking.commands import (
    ActOnReservation,
    ReplaceVisitors,
    RequestReservation,
    RescheduleReservation,
    VisitorDetails,
)
from services.booking.queries import reservations
from shared.http.app import current_database
from shared.http.auth import requires
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.pagination import page_schema
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers

blp = Blueprint(
    "booking-reservations", "parkhub.booking.reservations", description="Reservations of spaces and their lifecycle."
)


def visitors(body: dict[str, Any]) -> tuple[VisitorDetails, ...]:
    return tuple(VisitorDetails(v["name"], v.get("company"), v.get("car_plate")) for v in body.get("visitors", ()))


def booking_fields(body: dict[str, Any]) -> dict[str, Any]:
    """What a reservation and a series are both booked with, as their commands name it."""
    return {
        "actor": actor(),
        "space_id": str(body["space_id"]),
        "start": body["start"],
        "end": body["end"],
        "title": body["title"],
        "attendees": body["attendees"],
        "layout": body.get("layout"),
        "note": body.get("note"),
        "visitors": visitors(body),
        "org_id": body.get("organisation_id"),
    }


def answer(reservation_id: str, status: int = 200) -> Any:
    with reading() as session:
        reservation = reservations.get_reservation(session, actor(), reservation_id)
    location = f"/api/v1/booking/reservations/{reservation_id}" if status == 201 else None
    return reservation, status, versioned_headers(reservation["version"], location)


@blp.route("/reservations")
class Reservations(MethodView):
    @blp.arguments(ReservationQuerySchema, location="query")
    @blp.response(200, page_schema(ReservationSchema))
    @requires()
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """``scope=mine`` (tenants' default), ``organisation``, or ``all`` (staff, their default);
        filter by status, space, series and time."""
        with reading() as session:
            return reservations.list_reservations(session, actor(), args)

    @idempotent(current_database)
    @blp.arguments(ReservationInSchema)
    @blp.response(201, ReservationSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    @requires("tenant_member", "tenant_admin", "desk_staff", "park_admin")
    def post(self, body: dict[str, Any]) -> Any:
        """Book a space. Confirmed at once, or ``pending_approval`` where the space needs desk
        approval. A broken rule is a 422 naming it (``rule/...``); a taken slot a 409
        (``rule/no-double-booking``)."""
        command = RequestReservation(**booking_fields(body))
        return answer(execute(handlers.request_reservation, command), 201)


@blp.route("/reservations/<uuid:reservation_id>")
class ReservationById(MethodView):
    @blp.response(200, ReservationSchema)
    @requires()
    def get(self, reservation_id: Any) -> Any:
        """One reservation (its organisation and staff only; others get 404)."""
        return answer(str(reservation_id))


@blp.route("/reservations/<uuid:reservation_id>/history")
class ReservationHistory(MethodView):
    @blp.response(200, HistorySchema)
    @requires()
    def get(self, reservation_id: Any) -> dict[str, Any]:
        """The audit trail: every transition, who made it, when and why."""
        with reading() as session:
            return {"items": reservations.history(session, actor(), str(reservation_id))}


def _action(name: str, summary: str) -> Any:
    @blp.arguments(ReasonSchema(), required=False)
    @blp.response(200, ReservationSchema)
    @blp.doc(parameters=[IF_MATCH], summary=summary)
    @requires()
    def post(self: MethodView, body: dict[str, Any], reservation_id: Any) -> Any:
        command = ActOnReservation(
            actor(), str(reservation_id), name, expected_versions=if_match_versions(), reason=(body or {}).get("reason")
        )
        return answer(execute(handlers.act_on_reservation, command))

    post.__doc__ = summary
    return post


for _path, _name, _summary in (
    ("approve", "approve", "Approve a pending reservation (desk staff)."),
    ("reject", "reject", "Reject a pending reservation with a reason (desk staff)."),
    ("cancel", "cancel", "Cancel; a fee applies inside the space's free-cancellation period."),
    ("check-in", "check_in", "Check in, inside the window around the start."),
    ("complete", "complete", "Check out early: the reservation is completed."),
):
    blp.route(f"/reservations/<uuid:reservation_id>/{_path}", endpoint=f"reservation-{_path}")(
        type(f"Reservation{_name.title().replace('_', '')}", (MethodView,), {"post": _action(_name, _summary)})
    )


@blp.route("/reservations/<uuid:reservation_id>/reschedule")
class ReservationReschedule(MethodView):
    @blp.arguments(RescheduleSchema)
    @blp.response(200, ReservationSchema)
    @blp.doc(parameters=[IF_MATCH])
    @requires()
    def post(self, body: dict[str, Any], reservation_id: Any) -> Any:
        """Move to another time (and/or space): every rule, price and approval again."""
        command = RescheduleReservation(
            actor(),
            str(reservation_id),
            start=body["start"],
            end=body["end"],
            space_id=str(body["space_id"]) if body.get("space_id") else None,
            expected_versions=if_match_versions(),
            reason=body.get("reason"),
        )
        return answer(execute(handlers.reschedule_reservation, command))


@blp.route("/reservations/<uuid:reservation_id>/visitors")
class ReservationVisitors(MethodView):
    @blp.arguments(VisitorsInSchema)
    @blp.response(200, ReservationSchema)
    @blp.doc(parameters=[IF_MATCH])
    @requires()
    def put(self, body: dict[str, Any], reservation_id: Any) -> Any:
        """Replace the external visitors (name, company, car plate) for passes and parking."""
        command = ReplaceVisitors(actor(), str(reservation_id), visitors(body), if_match_versions())
        return answer(execute(handlers.replace_visitors, command))
