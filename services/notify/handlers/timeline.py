"""Each organisation's timeline: what happened to it in every service, once per event."""

from __future__ import annotations

from shared.db import UnitOfWork
from shared.events import Event


def record(event: Event, *, uow: UnitOfWork) -> None:
    """Add ``event`` to the timeline of the organisation it concerns (once)."""
