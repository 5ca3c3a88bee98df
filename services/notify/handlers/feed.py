"""The in-app feed: an event's notifications, one per recipient of rules/recipients.py."""

from __future__ import annotations

from services.notify.models import Notification
from shared.db import UnitOfWork
from shared.events import Event


def notify(event: Event, *, uow: UnitOfWork) -> list[Notification]:
    """The notifications ``event`` makes (none twice for one event and recipient)."""
    return []
