"""Each organisation's timeline: what happened to it in every service, once per event.

Every event of booking, consulting and finance that names an organisation (``data.org_id``, else
the envelope's ``orgid``) is one line, in both languages (rules/timeline.py), at the event's time.
An event handled twice is one line: ``event_id`` is unique, checked before inserting, and a
concurrent insert of the same event is undone in its savepoint instead of failing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.notify.models import TimelineEntry
from services.notify.rules.timeline import concerns_timeline, headline, organisation_of, subject_of
from shared.clock import as_utc
from shared.db import UnitOfWork
from shared.events import Event
from shared.i18n import render


def record(event: Event, *, uow: UnitOfWork) -> None:
    """Add ``event`` to the timeline of the organisation it concerns (once)."""
    if not concerns_timeline(event.type):
        return
    org_id = organisation_of(event.data, event.orgid)
    if org_id is None:
        return
    session = uow.session
    if session.scalars(select(TimelineEntry.id).where(TimelineEntry.event_id == event.id)).first() is not None:
        return
    title = headline(event.type, event.data)
    entry = TimelineEntry(
        event_id=event.id,
        org_id=org_id[:64],
        at=as_utc(event.time),
        event_type=event.type,
        service=event.type.split(".", 1)[0],
        subject_id=subject_of(event.data),
        title_en=render(title, "en")[:300],
        title_zh=render(title, "zh")[:300],
        correlation_id=event.correlationid[:128] if event.correlationid else None,
    )
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        return
