"""The timeline's read side: a page of what happened to one organisation, in order.

A tenant reads their own organisation's timeline; the park's staff any organisation's
(``org_id``). Lines are ordered by the event's time, then by arrival (``order``: ``asc``, the
default, oldest first; ``desc`` newest first); ``from`` (inclusive) and ``to`` (exclusive) narrow
them by the event's time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.notify.models import TimelineEntry
from shared.clock import as_utc
from shared.errors import PermissionDenied
from shared.i18n import _
from shared.principal import Principal


def organisation_to_read(actor: Principal, org_id: str | None) -> str:
    """The organisation whose timeline ``actor`` reads: their own unless staff name another
    (a tenant naming another organisation is refused with a 403)."""
    if not org_id or org_id == actor.org_id:
        return actor.org_id
    if actor.is_staff:
        return org_id
    raise PermissionDenied(
        _("Only desk staff or park admin may read another organisation's timeline."),
        action="read_timeline",
        allowed=["desk_staff", "park_admin"],
    )


def view(entry: TimelineEntry) -> dict[str, Any]:
    """A line as the API answers it; ``title`` keeps both languages (the answer picks the reader's)."""
    return {
        "at": entry.at,
        "event_type": entry.event_type,
        "service": entry.service,
        "title_en": entry.title_en,
        "title_zh": entry.title_zh,
        "subject_id": entry.subject_id,
        "correlation_id": entry.correlation_id,
    }


def read_timeline(session: Session, actor: Principal, args: Mapping[str, Any]) -> dict[str, Any]:
    """A page of the timeline of the organisation ``actor`` may read (``org_id`` for staff)."""
    org_id = organisation_to_read(actor, args.get("org_id"))
    query = select(TimelineEntry).where(TimelineEntry.org_id == org_id)
    if args.get("from_") is not None:
        query = query.where(TimelineEntry.at >= as_utc(args["from_"]))
    if args.get("to") is not None:
        query = query.where(TimelineEntry.at < as_utc(args["to"]))
    if args.get("event_type"):
        query = query.where(TimelineEntry.event_type == args["event_type"])
    if args.get("order") == "desc":
        query = query.order_by(TimelineEntry.at.desc(), TimelineEntry.id.desc())
    else:
        query = query.order_by(TimelineEntry.at, TimelineEntry.id)
    page, size = args.get("page", 1), args.get("page_size", 50)
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    entries = session.scalars(query.limit(size).offset((page - 1) * size))
    return {
        "org_id": org_id,
        "items": [view(entry) for entry in entries],
        "page": page,
        "page_size": size,
        "total": int(total),
    }
