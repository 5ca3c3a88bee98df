"""The in-app feed: an event's notifications, one per recipient of rules/recipients.py.

Each notification keeps its texts in both languages (``rules/notices.py`` rendered in English and
Chinese), so the reader's language is chosen when the feed is read. An event handled twice (the
inbox drops exact redeliveries; this is the second line) makes no second notification: each is
unique by ``dedupe_key(event id, recipient)``, checked before inserting and, should a concurrent
transaction insert the same key first, the insert is undone in its savepoint instead of failing.

Preferences are applied when the feed is read (queries/feed.py), for a user as for a group: the
notification is still made, so that an e-mail (handlers/mail.py) follows a person's own e-mail
preference even when they turned the feed off for that kind.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.notify.models import Notification
from services.notify.rules.notices import dedupe_key, notice_for
from services.notify.rules.recipients import AUDIENCES_BY_EVENT, recipients
from services.notify.rules.timeline import organisation_of, subject_of
from shared.clock import as_utc
from shared.db import UnitOfWork
from shared.events import Event
from shared.i18n import render


def notify(event: Event, *, uow: UnitOfWork) -> list[Notification]:
    """The notifications ``event`` makes (none twice for one event and recipient)."""
    if event.type not in AUDIENCES_BY_EVENT:
        return []
    data = event.data
    found = recipients(event.type, data)
    if not found:
        return []
    keys = {dedupe_key(event.id, recipient): recipient for recipient in found}
    session = uow.session
    made = set(session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(list(keys)))))
    fresh = {key: recipient for key, recipient in keys.items() if key not in made}
    if not fresh:
        return []
    notice = notice_for(event.type, data)
    texts = {
        "title_en": render(notice.title, "en")[:300],
        "title_zh": render(notice.title, "zh")[:300],
        "body_en": render(notice.body, "en"),
        "body_zh": render(notice.body, "zh"),
    }
    org_id = organisation_of(data, event.orgid)
    subject_id = subject_of(data)
    created_at = as_utc(event.time)
    notifications = [
        Notification(
            id=str(uuid.uuid4()),
            dedupe_key=key,
            event_id=event.id,
            event_type=event.type,
            kind=notice.kind,
            audience=recipient.audience,
            recipient_user=recipient.user,
            recipient_org_id=recipient.org_id,
            recipient_role=recipient.role,
            org_id=org_id,
            subject_id=subject_id,
            correlation_id=event.correlationid[:128] if event.correlationid else None,
            created_at=created_at,
            **texts,
        )
        for key, recipient in fresh.items()
    ]
    try:
        with session.begin_nested():
            session.add_all(notifications)
            session.flush()
    except IntegrityError:
        # Another transaction made them between our check and our insert: theirs stand.
        return []
    return notifications
