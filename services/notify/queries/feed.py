"""The feed's read side: which notifications a caller sees, a page of them, the unread count.

A caller sees a notification addressed to them (``recipient_user`` their subject), to their whole
organisation (``recipient_org_id`` theirs, no role), to a role they hold within their
organisation, or to a role they hold park-wide (``recipient_org_id`` null: the desk). A kind the
caller turned off ``in_app`` in their preferences is left out of the feed and its count (read at
the time of reading, so a notice to a group respects each member's own choice); so is a notice
to a group when the caller has their own notice of the same event. Read state is
per reader: a notice to the whole organisation read by one member is still unread for the others.

Each is one SQL statement (no query per row); the conditions follow the table's indexes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from services.notify.models import Notification, NotificationRead, Preference
from shared.principal import Principal


def addressed_to(actor: Principal) -> ColumnElement[bool]:
    """The notifications addressed to ``actor``, whatever their preferences."""
    roles = sorted(actor.roles)
    conditions: list[ColumnElement[bool]] = [Notification.recipient_user == actor.subject]
    if actor.org_id:
        mine = Notification.recipient_org_id == actor.org_id
        conditions.append(and_(mine, Notification.recipient_role.is_(None), Notification.recipient_user.is_(None)))
        if roles:
            conditions.append(and_(mine, Notification.recipient_role.in_(roles)))
    if roles:
        conditions.append(
            and_(
                Notification.recipient_org_id.is_(None),
                Notification.recipient_user.is_(None),
                Notification.recipient_role.in_(roles),
            )
        )
    return or_(*conditions) if conditions else false()


def _turned_off(actor: Principal) -> ColumnElement[bool]:
    """The notifications of a kind ``actor`` does not want in the feed."""
    return exists().where(
        Preference.subject == actor.subject,
        Preference.kind == Notification.kind,
        Preference.in_app.is_(False),
    )


def _read_by(actor: Principal) -> ColumnElement[bool]:
    return exists().where(
        NotificationRead.notification_id == Notification.id,
        NotificationRead.reader == actor.subject,
    )


def _told_in_person(actor: Principal) -> ColumnElement[bool]:
    """A notice to a group of which ``actor`` also has their own notice of the same event (the
    submitter who is also the organisation's admin): one event is one line of their feed."""
    own = aliased(Notification)
    return and_(
        Notification.recipient_user.is_(None),
        exists().where(own.event_id == Notification.event_id, own.recipient_user == actor.subject),
    )


def in_feed(actor: Principal) -> ColumnElement[bool]:
    """What ``actor``'s feed shows: addressed to them, of a kind they want in the app, each event
    once (their own notice rather than the group's)."""
    return and_(addressed_to(actor), ~_turned_off(actor), ~_told_in_person(actor))


def unread_count(session: Session, actor: Principal) -> int:
    query = select(func.count()).select_from(Notification).where(in_feed(actor), ~_read_by(actor))
    return int(session.execute(query).scalar_one())


def _listing(actor: Principal, args: Mapping[str, Any]) -> Select[Notification, datetime]:
    read_at = (
        select(NotificationRead.read_at)
        .where(NotificationRead.notification_id == Notification.id, NotificationRead.reader == actor.subject)
        .correlate(Notification)
        .scalar_subquery()
    )
    query = select(Notification, read_at.label("read_at")).where(in_feed(actor))
    if args.get("unread"):
        query = query.where(~_read_by(actor))
    if args.get("kind"):
        query = query.where(Notification.kind == args["kind"])
    if args.get("event_type"):
        query = query.where(Notification.event_type == args["event_type"])
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


def view(notification: Notification, read_at: Any) -> dict[str, Any]:
    """A notification as the API answers it; ``title``/``body`` keep both languages (the answer
    picks the reader's)."""
    return {
        "id": notification.id,
        "event_type": notification.event_type,
        "kind": notification.kind,
        "audience": notification.audience,
        "title_en": notification.title_en,
        "title_zh": notification.title_zh,
        "body_en": notification.body_en,
        "body_zh": notification.body_zh,
        "subject_id": notification.subject_id,
        "org_id": notification.org_id,
        "correlation_id": notification.correlation_id,
        "created_at": notification.created_at,
        "read": read_at is not None,
        "read_at": read_at,
    }


def list_notifications(session: Session, actor: Principal, args: Mapping[str, Any]) -> dict[str, Any]:
    """A page of ``actor``'s feed, newest first, with the unread count of the whole feed."""
    query = _listing(actor, args)
    page, size = args.get("page", 1), args.get("page_size", 50)
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = session.execute(query.limit(size).offset((page - 1) * size)).all()
    return {
        "items": [view(notification, read_at) for notification, read_at in rows],
        "page": page,
        "page_size": size,
        "total": int(total),
        "unread": unread_count(session, actor),
    }


def visible(session: Session, actor: Principal, notification_id: str) -> Notification | None:
    """The notification ``notification_id`` when it is addressed to ``actor``; None otherwise
    (another's notification is answered as one that does not exist)."""
    return session.scalars(
        select(Notification).where(Notification.id == notification_id, addressed_to(actor))
    ).one_or_none()


def read_at(session: Session, actor: Principal, notification_id: str) -> Any:
    return session.scalars(
        select(NotificationRead.read_at).where(
            NotificationRead.notification_id == notification_id, NotificationRead.reader == actor.subject
        )
    ).one_or_none()


def unread_ids(session: Session, actor: Principal) -> list[str]:
    """Every notification addressed to ``actor`` they have not read (hidden kinds included)."""
    return list(session.scalars(select(Notification.id).where(addressed_to(actor), ~_read_by(actor))))
