"""One event of booking, consulting or finance, turned into everything notify does with it.

The inbox calls :func:`take` once per event (a redelivered event is dropped by the inbox; what
gets past it twice is made harmless by each step's own key): the in-app notifications of the
recipients table (``feed``), their e-mails (``mail``, queued for the worker: the consumer never
waits for the SMTP server), the organisation's timeline (``timeline``) and the partners' webhook
deliveries (``webhooks``, queued for the worker). All in the inbox's one transaction.
"""

from __future__ import annotations

from services.notify.handlers import feed, mail, timeline, webhooks
from shared.db import UnitOfWork
from shared.events import Event


def take(event: Event, *, uow: UnitOfWork) -> None:
    notifications = feed.notify(event, uow=uow)
    mail.queue(notifications, uow=uow)
    timeline.record(event, uow=uow)
    webhooks.enqueue(event, uow=uow)
