"""Notify on the bus: ``participant`` is the worker's entry point (its outbox, inbox and jobs).

Jobs: send the e-mails that are due, and attempt the webhook deliveries that are due (first
attempts and retries). Both talk to the outside world, so both are ``shared.service.Dispatch`` jobs:
the kernel claims (and leases) what is due in one short unit of work, sends with no transaction
open, and records the outcomes in a second one. Both are given the process's settings.
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
