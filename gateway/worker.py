"""The gateway on the bus: it publishes identity events from its outbox and consumes none."""

from __future__ import annotations

from gateway.models import NAME, database
from shared.bus.runtime import Participant
from shared.settings import Settings


def participant(settings: Settings) -> Participant:
    return Participant(NAME, database(settings))
