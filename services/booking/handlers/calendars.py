"""Secrets of the iCalendar feed URLs: made on first use, rotated on demand."""

from __future__ import annotations

import secrets

from services.booking.commands import OpenFeed, RotateFeed
from services.booking.handlers.common import MAX_ORG_ID, organisation
from services.booking.models import CalendarFeed, Space
from services.booking.permissions import RIGHTS
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal

SCOPES = ("space", "organisation")


def _check_owner(uow: UnitOfWork, scope: str, owner_id: str) -> None:
    """A feed exists only for a space booking has, or an organisation in its directory (404)."""
    if scope == "space":
        exists = len(owner_id) <= 36 and uow.session.get(Space, owner_id) is not None
    else:
        exists = len(owner_id) <= MAX_ORG_ID and organisation(uow, owner_id) is not None
    if not exists:
        raise NotFound(
            _("There is no space {id}.", id=owner_id[:MAX_ORG_ID])
            if scope == "space"
            else _("There is no organisation {id}.", id=owner_id[:MAX_ORG_ID])
        )


def _owner(actor: Principal, scope: str, owner_id: str) -> str:
    """``mine`` names the caller's own organisation."""
    return actor.org_id if scope == "organisation" and owner_id == "mine" else owner_id


def feed_secret(cmd: OpenFeed, *, uow: UnitOfWork) -> tuple[str, str]:
    """The owner id and current secret of a feed, made now if it has none. Raises NotFound for
    an unknown space or organisation, PermissionDenied for another organisation's feed."""
    owner_id = _owner(cmd.actor, cmd.scope, cmd.owner_id)
    _check_owner(uow, cmd.scope, owner_id)
    RIGHTS.require(cmd.actor, f"read_{cmd.scope}_feed", owner_id)
    feed = uow.session.get(CalendarFeed, (cmd.scope, owner_id))
    if feed is None:
        feed = CalendarFeed(scope=cmd.scope, owner_id=owner_id, secret=secrets.token_urlsafe(24), rotated_at=utcnow())
        uow.session.add(feed)
        uow.session.flush()
    return owner_id, feed.secret


def rotate_feed(cmd: RotateFeed, *, uow: UnitOfWork) -> tuple[str, str]:
    """The owner id and a new secret; the old URL stops working at once. Raises NotFound or
    PermissionDenied."""
    owner_id = _owner(cmd.actor, cmd.scope, cmd.owner_id)
    _check_owner(uow, cmd.scope, owner_id)
    RIGHTS.require(cmd.actor, f"rotate_{cmd.scope}_feed", owner_id)
    feed = uow.session.get(CalendarFeed, (cmd.scope, owner_id))
    secret = secrets.token_urlsafe(24)
    if feed is None:
        uow.session.add(CalendarFeed(scope=cmd.scope, owner_id=owner_id, secret=secret, rotated_at=utcnow()))
    else:
        feed.secret = secret
        feed.rotated_at = utcnow()
    uow.session.flush()
    return owner_id, secret
