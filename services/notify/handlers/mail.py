"""E-mail: queue the e-mails of new notifications; the worker sends them (``send_due``)."""

from __future__ import annotations

from collections.abc import Sequence

from services.notify.models import Notification
from shared.db import UnitOfWork


def queue(notifications: Sequence[Notification], *, uow: UnitOfWork) -> None:
    """Queue an e-mail per person the ``notifications`` reach who wants that kind by e-mail."""


def send_due(*, uow: UnitOfWork) -> int:
    """Send the e-mails that are due (a job of the worker); how many were sent."""
    return 0
