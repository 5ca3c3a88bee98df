"""Finance on the bus: ``participant`` is the worker's entry point (its outbox, inbox and jobs).

Jobs, each run by the kernel's job runner in one unit of work (:func:`shared.service.scheduled`):
expire the offers nobody answered in time; mark the valuation requests consulting did not answer
(``no_answer``, after the ``valuation_answer_minutes`` setting, 30 by default).
"""

from __future__ import annotations

from services.finance.consumers import HANDLERS
from services.finance.handlers.offers import expire_offers
from services.finance.handlers.valuations import unanswered_valuations
from services.finance.models import TABLES
from shared.bus.runtime import Participant
from shared.service import participant as service_participant
from shared.settings import Settings

JOB_EVERY_SECONDS = 30.0
JOBS = (expire_offers,)


def participant(settings: Settings) -> Participant:
    jobs = (*JOBS, unanswered_valuations(settings.valuation_answer_minutes))
    return service_participant(TABLES, settings, HANDLERS, jobs=jobs, every_seconds=JOB_EVERY_SECONDS)
