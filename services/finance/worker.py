"""Finance on the bus: its outbox, its inbox and its scheduled jobs."""

from __future__ import annotations

from services.finance.consumers import HANDLERS
from services.finance.models import NAME, database
from shared.bus.inbox import Inbox, RetryPolicy
from shared.bus.runtime import Participant
from shared.settings import Settings


def participant(settings: Settings) -> Participant:
    db = database(settings)
    inbox = Inbox(NAME, db, HANDLERS, retry=RetryPolicy.from_settings(settings))
    return Participant(NAME, db, inbox)
