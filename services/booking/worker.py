"""Booking on the bus: its outbox, its inbox and its scheduled jobs."""

from __future__ import annotations

from services.booking.consumers import HANDLERS
from services.booking.models import NAME, database
from shared.bus.inbox import Inbox, RetryPolicy
from shared.bus.runtime import Participant
from shared.settings import Settings


def participant(settings: Settings) -> Participant:
    db = database(settings)
    retry = RetryPolicy(attempts=settings.retry_attempts, base_seconds=settings.retry_base_seconds)
    return Participant(NAME, db, Inbox(NAME, db, HANDLERS, retry=retry))
