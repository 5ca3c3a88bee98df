"""``/availability``: which spaces fit, and when they are free."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.booking.api.schemas.spaces import AvailabilityQuerySchema, AvailabilitySchema
from services.booking.permissions import RIGHTS
from services.booking.queries import availability
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.views import reading

blp = Blueprint("booking-availability", "parkhub.booking.availability", description="Search free spaces.")


@blp.route("/availability")
class Availability(MethodView):
    @RIGHTS.guard("search_availability", current_principal)
    @blp.arguments(AvailabilityQuerySchema, location="query")
    @blp.response(200, AvailabilitySchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Spaces that fit the attendees, layout, equipment and kind, with their free intervals
        in the window (opening hours, closures, buffers, lead time and reservations applied).
        ``needs_approval`` answers for the caller (staff's bookings are confirmed at once).
        The window is at most 31 days; times answer in park time."""
        with reading() as session:
            return availability.search(session, current_principal(), args)
