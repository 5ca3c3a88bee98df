"""Partner webhooks: queue an event's deliveries; the worker delivers them (``deliver_due``)."""

from __future__ import annotations

from shared.db import UnitOfWork
from shared.events import Event


def enqueue(event: Event, *, uow: UnitOfWork) -> None:
    """A delivery per active endpoint that subscribed to ``event``'s type and whose organisation
    may receive it (rules/recipients.partner_may_receive), with the payload that partner may see."""


def deliver_due(*, uow: UnitOfWork) -> int:
    """Attempt the deliveries that are due (a job of the worker); how many were attempted."""
    return 0
