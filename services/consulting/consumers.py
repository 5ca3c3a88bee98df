"""Consulting's reactions to other services' events: event type → handler ``(event, *, uow)``.

The organisation directory, which every service keeps from ``identity.organisation.*``, and
booking's answers to the room holds asked for meetings (``booking.reservation.*`` with a
``request_id`` of a meeting; any other is ignored).
"""

from __future__ import annotations

from collections.abc import Callable

from services.consulting.handlers.meetings import ANSWER_OF_EVENT, on_booking_answer
from services.consulting.handlers.valuations import on_ip_valuation_requested
from services.consulting.models import TABLES
from shared.directory import directory_handlers
from shared.revocation import revocation_handlers

HANDLERS: dict[str, Callable[..., None]] = {
    **directory_handlers(TABLES.directory),
    **revocation_handlers(TABLES.revocations),
    # Finance's IP valuations: one valuation case per request (handlers.valuations).
    "finance.ip_valuation.requested": on_ip_valuation_requested,
    # Booking's answers to the room holds of meetings, matched on request_id (handlers.meetings).
    **{event_type: on_booking_answer for event_type in ANSWER_OF_EVENT},
    "booking.reservation.rescheduled": on_booking_answer,
}
