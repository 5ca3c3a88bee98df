"""The gateway on the bus: it publishes identity events from its outbox and consumes none.

Its one job purges expired refresh tokens each hour, run by the kernel's job runner
(:func:`shared.service.scheduled`: one unit of work per run, committed by the runner).
"""

from __future__ import annotations

from gateway.models import NAME, database
from gateway.tokens import purge_expired_refresh_tokens
from shared.bus.runtime import Participant
from shared.service import scheduled
from shared.settings import Settings

PURGE_EVERY_SECONDS = 3600.0


def participant(settings: Settings) -> Participant:
    db = database(settings)
    purge = scheduled(db, purge_expired_refresh_tokens, every_seconds=PURGE_EVERY_SECONDS, name="purge-refresh-tokens")
    return Participant(NAME, db, jobs=(purge,))
