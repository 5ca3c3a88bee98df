"""``/reservations/{id}/booths``: the standard booths of a hall booking, let to exhibitors.

Letting takes ``Idempotency-Key``; releasing is a ``DELETE`` by booth number without
``If-Match`` (a let booth is never changed, only let and released). Who may: the ``booths``
right (the organiser, a tenant admin of the organisation, staff), checked on the reservation;
another organisation's reservation is a 404, and a partner, who never books, a 403 before the
body is read.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.booking import handlers
from services.booking.api.schemas.booths import BoothInSchema, BoothMapSchema, BoothSchema
from services.booking.commands import LetBooth, ReleaseBooth
from services.booking.permissions import RIGHTS
from services.booking.queries.booths import booth_map, get_booth
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.views import execute, reading

blp = Blueprint(
    "booking-booths", "parkhub.booking.booths", description="Exhibition booths let inside a booking of a whole hall."
)


@blp.route("/reservations/<uuid:reservation_id>/booths")
class ReservationBooths(MethodView):
    @RIGHTS.guard("booths", current_principal)
    @blp.response(200, BoothMapSchema)
    def get(self, reservation_id: Any) -> dict[str, Any]:
        """The booth map: every booth of the hall, free or let, each let one in the hall's state."""
        with reading() as session:
            return booth_map(session, current_principal(), str(reservation_id))

    @RIGHTS.guard("booths", current_principal)
    @idempotent()
    @blp.arguments(BoothInSchema)
    @blp.response(201, BoothSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any], reservation_id: Any) -> Any:
        """Let a booth to an exhibitor while the hall's reservation holds the space (pending
        approval, confirmed or checked in). 409 ``rule/booth-taken`` when it is let already, 422
        ``rule/booth-number`` outside 1 to the hall's booths, 422 ``rule/no-booths`` for a space
        without booths or a reservation in another layout."""
        command = LetBooth(
            current_principal(),
            str(reservation_id),
            body["booth"],
            body["exhibitor"],
            exhibitor_org_id=body.get("exhibitor_org_id"),
            contact=body.get("contact"),
            note=body.get("note"),
        )
        booth = execute(handlers.let_booth, command)
        location = f"/api/v1/booking/reservations/{reservation_id}/booths/{booth['booth']}"
        return booth, 201, {"Location": location}


# A booth number outside 1 to MAX_BOOTHS (500, written out so the path can be found by grep) is
# no booth of any hall: the route does not match (404), and a number too large for the database
# never reaches it.
@blp.route("/reservations/<uuid:reservation_id>/booths/<int(min=1, max=500):booth>")
class ReservationBooth(MethodView):
    @RIGHTS.guard("booths", current_principal)
    @blp.response(200, BoothSchema)
    def get(self, reservation_id: Any, booth: int) -> dict[str, Any]:
        """One let booth (404 while it is free)."""
        with reading() as session:
            return get_booth(session, current_principal(), str(reservation_id), booth)

    @RIGHTS.guard("booths", current_principal)
    @blp.response(204)
    def delete(self, reservation_id: Any, booth: int) -> None:
        """Release a let booth: it is free again (404 when it is not let)."""
        execute(handlers.release_booth, ReleaseBooth(current_principal(), str(reservation_id), booth))
