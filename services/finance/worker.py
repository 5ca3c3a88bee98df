"""Finance on the bus: ``participant`` is the worker's entry point (its outbox, inbox and jobs).

Jobs, each run by the kernel's job runner in one unit of work (:func:`shared.service.scheduled`):
expire the offers nobody answered in time.
"""

from __future__ import annotations

from services.finance.consumers import HANDLERS
from services.finance.handlers.offers import expire_offers
from services.finance.models import TABLES
from shared.bus.runtime import Participant
from shared.service import participant as service_participant
from shared.settings import Settings

JOB_EVERY_SECONDS = 30.0
JOBS = (expire_offers,)


def participant(settings: Settings) -> Participant:
    return service_participant(TABLES, settings, HANDLERS, jobs=JOBS, every_seconds=JOB_EVERY_SECONDS)
