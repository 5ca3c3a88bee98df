"""``/reservations``: book, read, list, and the actions that move a reservation along.

Creating takes ``Idempotency-Key``; every action takes ``If-Match`` with the ``ETag`` last read
(428 without, 412 when stale) and answers the reservation with its new ``ETag``.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.booking import handlers
from services.booking.api.schemas.reservations import (
    HistorySchema,
    ReasonSchema,
    RescheduleSchema,
    ReservationInSchema,
    ReservationPatchSchema,
    ReservationQuerySchema,
    ReservationSchema,
    VisitorsInSchema,
)
from services.booking.commands import (
    ActOnReservation,
    EditReservation,
    ReplaceVisitors,
    RequestReservation,
    RescheduleReservation,
    VisitorDetails,
)
from services.booking.permissions import RIGHTS
from services.booking.queries import reservations
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.pagination import page_schema
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "booking-reservations", "parkhub.booking.reservations", description="Reservations of spaces and their lifecycle."
)


def visitors(body: dict[str, Any]) -> tuple[VisitorDetails, ...]:
    return tuple(
        VisitorDetails(v["name"], v.get("company"), v.get("car_plate"), v.get("plate_kind"))
        for v in body.get("visitors", ())
    )


def booking_fields(body: dict[str, Any]) -> dict[str, Any]:
    """What a reservation and a series are both booked with, as their commands name it."""
    return {
        "actor": current_principal(),
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


def answer(reservation: dict[str, Any], status: int = 200) -> Any:
    """The reservation a handler returned, with its ``ETag`` (and ``Location`` when created)."""
    location = f"/api/v1/booking/reservations/{reservation['id']}" if status == 201 else None
    return reservation, status, versioned_headers(reservation["version"], location)


@blp.route("/reservations")
class Reservations(MethodView):
    @RIGHTS.guard("list_own", current_principal)
    @blp.arguments(ReservationQuerySchema, location="query")
    @blp.response(200, page_schema(ReservationSchema))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """``scope=mine`` (tenants' default), ``organisation``, or ``all`` (staff, their default);
        filter by status, space, series and time."""
        with reading() as session:
            return reservations.list_reservations(session, current_principal(), args)

    @RIGHTS.guard("book", current_principal)
    @idempotent()
    @blp.arguments(ReservationInSchema)
    @blp.response(201, ReservationSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any]) -> Any:
        """Book a space. Confirmed at once, or ``pending_approval`` where the space needs desk
        approval. A broken rule is a 422 naming it (``rule/...``); a taken slot a 409
        (``rule/no-double-booking``). ``purpose`` (``roadshow``, ``product_launch``) makes it an
        event booking of the exhibition hall or the design release square, which always waits for
        the desk; a roadshow names its financing round in ``purpose_ref``
        (``rule/roadshow-without-round``, ``rule/purpose-space``, ``rule/purpose-ref``)."""
        command = RequestReservation(
            **booking_fields(body), purpose=body.get("purpose"), purpose_ref=body.get("purpose_ref")
        )
        return answer(execute(handlers.request_reservation, command), 201)


@blp.route("/reservations/<uuid:reservation_id>")
class ReservationById(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, ReservationSchema)
    def get(self, reservation_id: Any) -> Any:
        """One reservation (its organisation and staff only; others get 404)."""
        with reading() as session:
            return answer(reservations.get_reservation(session, current_principal(), str(reservation_id)))

    @RIGHTS.guard("edit", current_principal)
    @blp.arguments(ReservationPatchSchema)
    @blp.response(200, ReservationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body: dict[str, Any], reservation_id: Any) -> Any:
        """Edit the details of a current reservation: any of ``title``, ``attendees``, ``layout``,
        ``note``, ``visitors`` (a JSON merge patch; ``application/json`` or
        ``application/merge-patch+json``). The organiser, a tenant admin of the organisation or
        staff; ``If-Match``. New seating is checked as for a booking (``rule/capacity``,
        ``rule/layout``); a tenant's change that makes approval necessary sends a confirmed
        reservation back to ``pending_approval`` (its slot kept). Time, space and price do not
        change (reschedule moves a reservation)."""
        changes = dict(body)
        if "visitors" in changes:
            changes["visitors"] = visitors({"visitors": changes["visitors"] or ()})
        command = EditReservation(current_principal(), str(reservation_id), changes, if_match_versions())
        return answer(execute(handlers.edit_reservation, command))


@blp.route("/reservations/<uuid:reservation_id>/history")
class ReservationHistory(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, HistorySchema)
    def get(self, reservation_id: Any) -> dict[str, Any]:
        """The audit trail: every transition, who made it, when and why."""
        with reading() as session:
            return {"items": reservations.history(session, current_principal(), str(reservation_id))}


def act(action: str, reservation_id: Any, body: dict[str, Any] | None) -> Any:
    """Run one caller action (approve, reject, cancel, check_in, complete) under ``If-Match``."""
    command = ActOnReservation(
        current_principal(),
        str(reservation_id),
        action,
        expected_versions=if_match_versions(),
        reason=(body or {}).get("reason"),
    )
    return answer(execute(handlers.act_on_reservation, command))


@blp.route("/reservations/<uuid:reservation_id>/approve")
class ReservationApprove(MethodView):
    @RIGHTS.guard("approve", current_principal)
    @blp.arguments(ReasonSchema(), required=False)
    @blp.response(200, ReservationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], reservation_id: Any) -> Any:
        """Approve a pending reservation (desk staff or park admin)."""
        return act("approve", reservation_id, body)


@blp.route("/reservations/<uuid:reservation_id>/reject")
class ReservationReject(MethodView):
    @RIGHTS.guard("reject", current_principal)
    @blp.arguments(ReasonSchema(), required=False)
    @blp.response(200, ReservationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], reservation_id: Any) -> Any:
        """Reject a pending reservation with a reason (desk staff or park admin)."""
        return act("reject", reservation_id, body)


@blp.route("/reservations/<uuid:reservation_id>/cancel")
class ReservationCancel(MethodView):
    @RIGHTS.guard("cancel", current_principal)
    @blp.arguments(ReasonSchema(), required=False)
    @blp.response(200, ReservationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], reservation_id: Any) -> Any:
        """Cancel; a fee applies inside the space's free-cancellation period."""
        return act("cancel", reservation_id, body)


@blp.route("/reservations/<uuid:reservation_id>/check-in")
class ReservationCheckIn(MethodView):
    @RIGHTS.guard("check_in", current_principal)
    @blp.arguments(ReasonSchema(), required=False)
    @blp.response(200, ReservationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], reservation_id: Any) -> Any:
        """Check in, inside the window around the start."""
        return act("check_in", reservation_id, body)


@blp.route("/reservations/<uuid:reservation_id>/complete")
class ReservationComplete(MethodView):
    @RIGHTS.guard("complete", current_principal)
    @blp.arguments(ReasonSchema(), required=False)
    @blp.response(200, ReservationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], reservation_id: Any) -> Any:
        """Check out early: the reservation is completed."""
        return act("complete", reservation_id, body)


@blp.route("/reservations/<uuid:reservation_id>/reschedule")
class ReservationReschedule(MethodView):
    @RIGHTS.guard("reschedule", current_principal)
    @blp.arguments(RescheduleSchema)
    @blp.response(200, ReservationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], reservation_id: Any) -> Any:
        """Move to another time (and/or space): every rule, price and approval again."""
        command = RescheduleReservation(
            current_principal(),
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
    @RIGHTS.guard("replace_visitors", current_principal)
    @blp.arguments(VisitorsInSchema)
    @blp.response(200, ReservationSchema)
    @blp.doc(parameters=[IF_MATCH])
    def put(self, body: dict[str, Any], reservation_id: Any) -> Any:
        """Replace the external visitors (name, company, car plate) for passes and parking."""
        command = ReplaceVisitors(current_principal(), str(reservation_id), visitors(body), if_match_versions())
        return answer(execute(handlers.replace_visitors, command))
