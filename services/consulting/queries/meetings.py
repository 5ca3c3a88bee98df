"""A case's meetings as their readers see them: whoever reads the case reads its meetings, newest
first, with the room booking holds (or why it could not, and the nearest free alternatives).
Times in the answer are park time (the schema's), names of rooms in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.consulting.models import Meeting
from services.consulting.queries.cases import visible_case
from shared.clock import as_utc
from shared.errors import NotFound
from shared.i18n import Text, _, label, register_labels
from shared.principal import Principal

API = "/api/v1/consulting"

MEETING_STATUSES = ("requested", "pending_approval", "confirmed", "rejected", "no_answer", "cancelled")
MEETING_STATUS = "meeting-status"
register_labels(
    MEETING_STATUS,
    {
        "requested": _("Room requested"),
        "pending_approval": _("Room awaiting the desk's approval"),
        "confirmed": _("Room confirmed"),
        "rejected": _("No room available"),
        "no_answer": _("No answer from booking"),
        "cancelled": _("Cancelled"),
    },
)


MEETING_REASON = "meeting-system-reason"
CASE_CANCELLED = "case_cancelled"
MEETING_CANCELLED = "meeting_cancelled"
ASKED_AGAIN = "asked_again"
register_labels(
    MEETING_REASON,
    {
        CASE_CANCELLED: _("The case was cancelled."),
        MEETING_CANCELLED: _("The meeting was cancelled."),
        ASKED_AGAIN: _("The meeting was asked for again."),
    },
)
"""The reasons consulting itself gives for a meeting's end: a meeting keeps the code (never an
English text), :func:`reason_shown` gives the reader its text in their language."""


def reason_shown(stored: str | None) -> Text | None:
    """A meeting's stored ``reason`` for people: consulting's own (a code of
    :data:`MEETING_REASON`) in the reader's language, anybody else's (booking's, a person's) as
    written."""
    return None if stored is None else label(MEETING_REASON, stored)


def meeting_url(meeting: Mapping[str, Any]) -> str:
    """Where one meeting is read (``Location`` of the 201 that asked for it)."""
    return f"{API}/cases/{meeting['case_id']}/meetings/{meeting['id']}"


def _alternative(entry: Mapping[str, Any]) -> dict[str, Any]:
    def moment(value: Any) -> Any:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00"))) if isinstance(value, str) else value

    return {
        "space_id": entry.get("space_id"),
        "space_name": entry.get("space_name"),
        "space_name_zh": entry.get("space_name_zh"),
        "starts_at": moment(entry.get("starts_at")),
        "ends_at": moment(entry.get("ends_at")),
    }


def meeting_view(row: Meeting) -> dict[str, Any]:
    """``row`` as the API answers it."""
    needs = row.needs or {}
    return {
        "id": row.id,
        "case_id": row.case_id,
        "request_id": row.request_id,
        "title": row.title,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "attendees": row.attendees,
        "space_kind": needs.get("space_kind", "conference_room"),
        "layout": needs.get("layout"),
        "equipment": list(needs.get("equipment") or ()),
        "note": needs.get("note"),
        "status": row.status,
        "reservation_id": row.reservation_id,
        "space_name": row.space_name,
        "space_name_zh": row.space_name_zh,
        "rule": row.rule,
        "reason": reason_shown(row.reason),
        "alternatives": [_alternative(a) for a in row.alternatives or ()],
        "requested_by": row.requested_by,
        "requested_by_name": row.requested_by_name,
        "requested_at": row.requested_at,
        "answered_at": row.answered_at,
        "updated_at": row.updated_at,
        "version": row.version,
    }


def case_meetings(session: Session, actor: Principal, case_id: str) -> list[dict[str, Any]]:
    """The meetings of a case ``actor`` reads (the ``read`` row; a 404 otherwise), newest first."""
    case = visible_case(session, actor, case_id)
    return [meeting_view(m) for m in meetings_of(session, case.id)]


def meetings_of(session: Session, case_id: str) -> list[Meeting]:
    query = select(Meeting).where(Meeting.case_id == case_id).order_by(Meeting.requested_at.desc(), Meeting.id.desc())
    return list(session.scalars(query))


def one_meeting(session: Session, actor: Principal, case_id: str, meeting_id: str) -> dict[str, Any]:
    """Meeting ``meeting_id`` of case ``case_id``: a 404 when the case is not ``actor``'s to read,
    for a meeting of another case and for none at all."""
    case = visible_case(session, actor, case_id)
    row = session.get(Meeting, meeting_id)
    if row is None or row.case_id != case.id:
        raise NotFound(_("There is no meeting {id} on this case.", id=meeting_id), code="not-found")
    return meeting_view(row)
