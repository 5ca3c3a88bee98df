"""Booking's reactions to other services' events.

- ``identity.organisation.*`` keep booking's directory of organisations (names, kinds, status).
- ``booking.room_hold.requested``: another service asks for a meeting room for a tenant;
  answered by the reservation's own events, or ``booking.reservation.rejected`` (see
  :mod:`services.booking.handlers.holds`), with the nearest free alternatives when refused.
- ``booking.room_hold.released``: the requester no longer needs it; the reservation placed for it
  is cancelled without a fee.
- ``finance.application.offer_accepted`` (venture capital, guide fund), ``withdrawn``, ``closed``:
  tenants' financing rounds, which a roadshow presents (:mod:`services.booking.handlers.rounds`).
"""

from __future__ import annotations

from collections.abc import Callable

from services.booking.handlers.holds import hold_room, release_room
from services.booking.handlers.rounds import record_round, withdraw_round
from services.booking.models import TABLES, directory
from shared.directory import directory_handlers
from shared.events.booking import ROOM_HOLD_RELEASED, ROOM_HOLD_REQUESTED
from shared.events.finance import APPLICATION_CLOSED, APPLICATION_OFFER_ACCEPTED, APPLICATION_WITHDRAWN
from shared.revocation import revocation_handlers

HANDLERS: dict[str, Callable[..., None]] = {
    **directory_handlers(directory),
    **revocation_handlers(TABLES.revocations),
    ROOM_HOLD_REQUESTED.type: hold_room,
    ROOM_HOLD_RELEASED.type: release_room,
    APPLICATION_OFFER_ACCEPTED.type: record_round,
    APPLICATION_WITHDRAWN.type: withdraw_round,
    APPLICATION_CLOSED.type: withdraw_round,
}
