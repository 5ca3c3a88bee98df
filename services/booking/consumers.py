"""Booking's reactions to other services' events.

- ``identity.organisation.*`` keep booking's directory of organisations (names, kinds, status).
- ``booking.room_hold.requested``: another service asks for a meeting room for a tenant;
  answered by the reservation's own events, or ``booking.reservation.rejected`` (see
  :mod:`services.booking.handlers.holds`).
"""

from __future__ import annotations

from collections.abc import Callable

from services.booking.handlers.holds import hold_room
from services.booking.models import directory
from shared.directory import directory_handlers
from shared.events.booking import ROOM_HOLD_REQUESTED

HANDLERS: dict[str, Callable[..., None]] = {
    **directory_handlers(directory),
    ROOM_HOLD_REQUESTED.type: hold_room,
}
