"""The people notify writes to, kept from identity's user events."""

from __future__ import annotations

from shared.db import UnitOfWork
from shared.events import Event


def keep_person(event: Event, *, uow: UnitOfWork) -> None:
    """Insert or update the person ``identity.user.*`` describes (an older version never wins)."""
