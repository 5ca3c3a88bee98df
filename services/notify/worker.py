"""Notify on the bus: ``participant`` is the worker's entry point (its outbox, inbox and jobs).

Jobs, each run by the kernel's job runner in one unit of work: send the e-mails that are due,
and attempt the webhook deliveries that are due (first attempts and retries).
"""

from __future__ import annotations

from services.notify.consumers import HANDLERS
from services.notify.handlers.mail import send_due
from services.notify.handlers.webhooks import deliver_due
from services.notify.models import TABLES
from shared.bus.runtime import Participant
from shared.service import participant as service_participant
from shared.settings import Settings

JOB_EVERY_SECONDS = 5.0
"""Short: an e-mail or a webhook is news, and a run with nothing due costs one indexed query."""
JOBS = (send_due, deliver_due)


def participant(settings: Settings) -> Participant:
    return service_participant(TABLES, settings, HANDLERS, jobs=JOBS, every_seconds=JOB_EVERY_SECONDS)
