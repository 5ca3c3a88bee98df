"""Finance on the bus: ``participant`` is the worker's entry point (its outbox, inbox and jobs)."""

from __future__ import annotations

from services.finance.consumers import HANDLERS
from services.finance.models import TABLES
from shared.bus.runtime import Participant
from shared.service import participant as service_participant
from shared.settings import Settings


def participant(settings: Settings) -> Participant:
    return service_participant(TABLES, settings, HANDLERS)
