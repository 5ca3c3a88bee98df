"""Marking the feed read: one notification, or all of the caller's. Read state is the reader's
own (a notice to the whole organisation read by one member stays unread for the others)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.notify.commands.feed import MarkAllRead, MarkRead
from services.notify.models import NotificationRead
from services.notify.queries import feed
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import NotFound
from shared.i18n import _


def mark_read(cmd: MarkRead, *, uow: UnitOfWork) -> dict[str, Any]:
    """The notification, read by the caller (404 when it is not addressed to them). Reading it
    again keeps the first time it was read."""
    session = uow.session
    notification = feed.visible(session, cmd.actor, cmd.notification_id)
    if notification is None:
        raise NotFound(_("No such notification."), code="not-found")
    read_at = feed.read_at(session, cmd.actor, notification.id)
    if read_at is None:
        read_at = utcnow()
        if not _insert(uow, notification.id, cmd.actor.subject, read_at):
            read_at = feed.read_at(session, cmd.actor, notification.id)
    return feed.view(notification, read_at)


def mark_all_read(cmd: MarkAllRead, *, uow: UnitOfWork) -> dict[str, Any]:
    """Every notification addressed to the caller, read; answers how many were marked."""
    session = uow.session
    ids = feed.unread_ids(session, cmd.actor)
    now = utcnow()
    marked = sum(_insert(uow, notification_id, cmd.actor.subject, now) for notification_id in ids)
    return {"marked": marked, "unread": 0}


def _insert(uow: UnitOfWork, notification_id: str, reader: str, at: datetime) -> bool:
    """Record one read; False when a concurrent request recorded it first (its time stands)."""
    session = uow.session
    try:
        with session.begin_nested():
            session.add(NotificationRead(notification_id=notification_id, reader=reader, read_at=at))
            session.flush()
    except IntegrityError:
        return False
    return True
