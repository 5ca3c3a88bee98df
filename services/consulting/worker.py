"""Consulting on the bus: ``participant`` is the worker's entry point (its outbox, inbox and jobs).

Jobs, each run by the kernel's job runner in one unit of work (:func:`shared.service.scheduled`):
route triaged cases of categories with a routing rule, close cases whose solution went unanswered,
warn about and breach SLA targets (once each), load official holiday years the calendar lacks, and
mark meetings booking has not answered for ``meeting_answer_minutes`` (default 10) ``no_answer``.
"""

from __future__ import annotations

from services.consulting.consumers import HANDLERS
from services.consulting.handlers.calendar import keep_official_years
from services.consulting.handlers.closing import close_unanswered
from services.consulting.handlers.meetings import mark_unanswered
from services.consulting.handlers.routing import route_triaged
from services.consulting.handlers.sla import detect_breaches
from services.consulting.models import TABLES
from shared.bus.runtime import Participant
from shared.db import UnitOfWork
from shared.service import participant as service_participant
from shared.settings import Settings

JOB_EVERY_SECONDS = 30.0
JOBS = (route_triaged, close_unanswered, detect_breaches, keep_official_years)


def participant(settings: Settings) -> Participant:
    minutes = settings.meeting_answer_minutes

    def mark_unanswered_meetings(*, uow: UnitOfWork) -> int:
        """Meetings booking left unanswered for ``meeting_answer_minutes`` show ``no_answer``."""
        return mark_unanswered(uow=uow, minutes=minutes)

    jobs = (*JOBS, mark_unanswered_meetings)
    return service_participant(TABLES, settings, HANDLERS, jobs=jobs, every_seconds=JOB_EVERY_SECONDS)
