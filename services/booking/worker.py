"""Booking on the bus: ``participant`` is the worker's entry point (its outbox, inbox and jobs).

Jobs, each run by the kernel's job runner in one unit of work (:func:`shared.service.scheduled`):
release no-shows when the check-in window has closed, complete checked-in reservations that
ended, reject what was still waiting for approval at its start.
"""

from __future__ import annotations

from services.booking.consumers import HANDLERS
from services.booking.handlers import complete_ended, expire_unapproved, release_no_shows
from services.booking.models import TABLES
from shared.bus.runtime import Participant
from shared.service import participant as service_participant
from shared.settings import Settings

JOB_EVERY_SECONDS = 30.0
JOBS = (release_no_shows, complete_ended, expire_unapproved)


def participant(settings: Settings) -> Participant:
    return service_participant(TABLES, settings, HANDLERS, jobs=JOBS, every_seconds=JOB_EVERY_SECONDS)
