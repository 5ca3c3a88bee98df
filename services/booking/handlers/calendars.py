"""Secrets of the iCalendar feed URLs: made on first use, rotated on demand."""

from __future__ import annotations

import secrets

from services.booking.commands import Actor, OpenFeed, RotateFeed
from services.booking.models import CalendarFeed
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import PermissionDenied

SCOPES = ("space", "organisation")


def may_read_feed(actor: Actor, scope: str, owner_id: str) -> bool:
    """Any signed-in user may subscribe to a space's (busy-only) feed; an organisation's feed
    is for its own members and staff."""
    return scope == "space" or actor.is_staff or actor.org_id == owner_id


def may_rotate_feed(actor: Actor, scope: str, owner_id: str) -> bool:
    if scope == "space":
        return actor.is_park_admin
    return actor.is_staff or (actor.org_id == owner_id and actor.is_tenant_admin)


def feed_secret(cmd: OpenFeed, *, uow: UnitOfWork) -> str:
    """The current secret of a feed, made now if it has none."""
    if not may_read_feed(cmd.actor, cmd.scope, cmd.owner_id):
        raise PermissionDenied("This calendar feed belongs to another organisation.")
    feed = uow.session.get(CalendarFeed, (cmd.scope, cmd.owner_id))
    if feed is None:
        feed = CalendarFeed(
            scope=cmd.scope, owner_id=cmd.owner_id, secret=secrets.token_urlsafe(24), rotated_at=utcnow()
        )
        uow.session.add(feed)
        uow.session.flush()
    return feed.secret


def rotate_feed(cmd: RotateFeed, *, uow: UnitOfWork) -> str:
    """A new secret; the old URL stops working at once."""
    if not may_rotate_feed(cmd.actor, cmd.scope, cmd.owner_id):
        raise PermissionDenied("Only park admin (spaces) or a tenant admin (their organisation) rotate feeds.")
    feed = uow.session.get(CalendarFeed, (cmd.scope, cmd.owner_id))
    secret = secrets.token_urlsafe(24)
    if feed is None:
        uow.session.add(CalendarFeed(scope=cmd.scope, owner_id=cmd.owner_id, secret=secret, rotated_at=utcnow()))
    else:
        feed.secret = secret
        feed.rotated_at = utcnow()
    uow.session.flush()
    return secret
