"""The gateway on the bus: it publishes identity events from its outbox and consumes none.

Its one job purges expired refresh tokens each hour.
"""

from __future__ import annotations

from gateway.models import NAME, database
from gateway.tokens import purge_expired_refresh_tokens
from shared.bus.runtime import Participant, ScheduledJob
from shared.db import Database
from shared.settings import Settings

PURGE_EVERY_SECONDS = 3600.0


def participant(settings: Settings) -> Participant:
    db = database(settings)
    return Participant(NAME, db, jobs=(ScheduledJob("purge-refresh-tokens", PURGE_EVERY_SECONDS, lambda: _purge(db)),))


def _purge(db: Database) -> int:
    with db.unit_of_work(correlationid="job:purge-refresh-tokens") as uow:
        purged = purge_expired_refresh_tokens(uow=uow)
        uow.commit()
    return purged
