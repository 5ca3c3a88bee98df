"""Meetings on a case: consulting asks booking to hold a room and follows its answers.

A meeting is a saga of its own, under the correlation id of the request that asked for it: asking
(``booking.room_hold.requested``, requester ``consulting``, a new ``request_id``), booking's
answers matched on ``request_id`` (``booking.reservation.requested``/``confirmed``/``rejected``/
``cancelled``/``rescheduled``), a retry by staff (a new ``request_id``), a cancellation and the
case's cancellation (``booking.room_hold.released``). Every event a meeting publishes carries
the meeting's correlation id, whoever's request or job publishes it.

Answers never move a meeting backwards: :data:`ANSWER_MOVES` says from which states each answer
is taken; a late or repeated one (a ``requested`` after ``confirmed``, anything after
``cancelled``) is ignored. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.consulting.commands.meetings import CancelMeeting, RequestMeeting, RetryMeeting
from services.consulting.handlers.common import load_case, new_id, utc_text
from services.consulting.models import Case, Meeting
from services.consulting.permissions import RIGHTS, meeting_subject, sees_tenant_names
from services.consulting.queries.meetings import (
    ASKED_AGAIN,
    CASE_CANCELLED,
    MEETING_CANCELLED,
    MEETING_REASON,
    meeting_view,
)
from services.consulting.rules.names import status_name
from shared.clock import as_utc, utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound, RuleViolation, check_version
from shared.events import Event
from shared.i18n import DEFAULT_LOCALE, Message, _, label, render
from shared.principal import Principal
from shared.rights import alternatives

REQUESTER = "consulting"
"""Who consulting is to booking (``requester`` of its room holds)."""

MEETING_CASE_STATES = ("assigned", "accepted", "in_progress", "waiting_on_tenant")
"""A case on which a meeting may be asked for: a firm holds it and it is not solved, closed or
cancelled (before a firm, there is nobody to meet; once a solution is proposed, the work is done)."""

MAX_MEETING = timedelta(hours=8)
"""The longest meeting consulting asks a room for."""

HELD = ("requested", "pending_approval", "confirmed", "no_answer")
"""States in which booking holds, or may yet hold, a room for the meeting: cancelling releases it."""

CANCELLABLE = (*HELD, "rejected")
RETRYABLE = ("no_answer", "rejected")

MEETING_ANSWER_MINUTES = 10.0
"""Minutes booking has to answer a request before the meeting shows ``no_answer`` by default (the
worker passes the setting ``meeting_answer_minutes``)."""

ANSWER_MOVES: dict[str, tuple[str, ...]] = {
    "pending_approval": ("requested", "no_answer", "pending_approval"),
    "confirmed": ("requested", "pending_approval", "no_answer", "confirmed"),
    "rejected": ("requested", "pending_approval", "no_answer"),
    "cancelled": ("requested", "pending_approval", "confirmed", "no_answer"),
}
"""Booking's answer (the state it brings) → the meeting states it is taken from. ``confirmed``
from ``confirmed`` and ``pending_approval`` from ``pending_approval`` are a reschedule of the held
room (the desk moved it: new times or room; a repeat of the same answer changes nothing); anything
else from a state not listed is late or repeated, and ignored."""


def check_case_takes_meetings(case: Case, actor: Principal) -> None:
    """409 ``rule/state-transition`` unless the case is in :data:`MEETING_CASE_STATES`."""
    if case.status in MEETING_CASE_STATES:
        return
    tenant = sees_tenant_names(actor)
    allowed = alternatives(tuple(status_name(s, for_tenant=tenant) for s in MEETING_CASE_STATES))
    raise Conflict(
        _(
            "A meeting can be asked for only on a case that is {allowed}; this one is {status}.",
            allowed=allowed,
            status=status_name(case.status, for_tenant=tenant),
        ),
        code="rule/state-transition",
        action="request_meeting",
        case_status=case.status,
        allowed=list(MEETING_CASE_STATES),
    )


def check_times(starts_at: datetime, ends_at: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The meeting's times in UTC: the end after the start (``rule/end-after-start``), in the
    future (``rule/in-the-past``), at most :data:`MAX_MEETING` long (``rule/meeting-too-long``)."""
    start, end = as_utc(starts_at), as_utc(ends_at)
    if end <= start:
        raise RuleViolation(_("The end must come after the start."), code="rule/end-after-start")
    if start <= now:
        raise RuleViolation(_("A meeting cannot start in the past."), code="rule/in-the-past")
    if end - start > MAX_MEETING:
        raise RuleViolation(
            _("A meeting lasts at most {hours} hours.", hours=int(MAX_MEETING.total_seconds() // 3600)),
            code="rule/meeting-too-long",
        )
    return start, end


def _ask_booking(uow: UnitOfWork, case: Case, meeting: Meeting) -> None:
    needs = meeting.needs or {}
    with uow.correlated(meeting.correlation_id):
        uow.publish(
            "booking.room_hold.requested",
            {
                "request_id": meeting.request_id,
                "requester": REQUESTER,
                "org_id": case.org_id,
                "requested_by": meeting.requested_by,
                "requested_by_name": meeting.requested_by_name,
                "title": meeting.title,
                "starts_at": utc_text(meeting.starts_at),
                "ends_at": utc_text(meeting.ends_at),
                "attendees": meeting.attendees,
                "space_kind": needs.get("space_kind", "conference_room"),
                "layout": needs.get("layout"),
                "equipment": list(needs.get("equipment") or ()),
            },
            subject=f"cases/{case.id}/meetings/{meeting.id}",
            orgid=case.org_id,
        )


def released_reason(stored: str) -> str:
    """The reason a release tells booking: a person's words as written, consulting's own (a code
    of :data:`MEETING_REASON`) in English, as events carry texts."""
    return render(label(MEETING_REASON, stored), DEFAULT_LOCALE)


def _release(uow: UnitOfWork, case: Case, meeting: Meeting, request_id: str, reason: str) -> None:
    with uow.correlated(meeting.correlation_id):
        uow.publish(
            "booking.room_hold.released",
            {"request_id": request_id, "requester": REQUESTER, "reason": released_reason(reason)},
            subject=f"cases/{case.id}/meetings/{meeting.id}",
            orgid=case.org_id,
        )


def request_meeting(cmd: RequestMeeting, *, uow: UnitOfWork) -> dict[str, Any]:
    """A meeting on a case the caller reads (404) and may ask one on (403: the submitter, a
    tenant admin of the organisation, the firm assigned), in :data:`MEETING_CASE_STATES` (409),
    at valid times (422); booking is asked to hold a room. Returns the meeting (``requested``)."""
    case = load_case(uow, cmd.actor, cmd.case_id, for_update=True)
    RIGHTS.require(cmd.actor, "request_meeting", case)
    check_case_takes_meetings(case, cmd.actor)
    now = cmd.at or utcnow()
    start, end = check_times(cmd.starts_at, cmd.ends_at, now)
    meeting = Meeting(
        id=new_id(),
        case_id=case.id,
        request_id=new_id(),
        requested_by=cmd.actor.subject,
        requested_by_name=cmd.actor.name or None,
        requested_by_org_id=cmd.actor.org_id,
        title=cmd.title,
        starts_at=start,
        ends_at=end,
        attendees=cmd.attendees,
        needs={
            "space_kind": cmd.space_kind,
            "layout": cmd.layout,
            "equipment": list(cmd.equipment),
            "note": cmd.note,
        },
        status="requested",
        alternatives=[],
        correlation_id=uow.context.get("correlationid"),
        requested_at=now,
        updated_at=now,
    )
    uow.session.add(meeting)
    uow.session.flush()
    _ask_booking(uow, case, meeting)
    return meeting_view(meeting)


def _meeting_of(uow: UnitOfWork, case: Case, meeting_id: str) -> Meeting:
    meeting = uow.session.get(Meeting, meeting_id, with_for_update=True)
    if meeting is None or meeting.case_id != case.id:
        raise NotFound(_("There is no meeting {id} on this case.", id=meeting_id), code="not-found")
    return meeting


def _require_state(meeting: Meeting, action: str, allowed: Collection[str], refusal: Message) -> None:
    """409 ``rule/state-transition`` (``refusal``) unless ``meeting`` is in one of ``allowed``."""
    if meeting.status not in allowed:
        raise Conflict(
            refusal,
            code="rule/state-transition",
            action=action,
            meeting_status=meeting.status,
            allowed=list(allowed),
        )


def cancel_meeting(cmd: CancelMeeting, *, uow: UnitOfWork) -> dict[str, Any]:
    """Who asked, a tenant admin of the organisation or staff cancel a meeting (409 once it is
    cancelled); a room booking holds, or may yet hold, is released."""
    case = load_case(uow, cmd.actor, cmd.case_id, for_update=True)
    meeting = _meeting_of(uow, case, cmd.meeting_id)
    RIGHTS.require(cmd.actor, "cancel_meeting", meeting_subject(case, meeting))
    check_version(meeting.version, cmd.expected_versions)
    _require_state(meeting, "cancel_meeting", CANCELLABLE, _("This meeting has been cancelled already."))
    reason = cmd.reason.strip() if cmd.reason and cmd.reason.strip() else None
    cancel(uow, case, meeting, reason=reason or MEETING_CANCELLED, now=cmd.at or utcnow())
    return meeting_view(meeting)


def cancel(uow: UnitOfWork, case: Case, meeting: Meeting, *, reason: str, now: datetime) -> None:
    """``meeting`` is cancelled; the room is released when booking holds, or may yet hold, one.
    ``reason`` is a person's words or a code of :data:`MEETING_REASON` (never an English text)."""
    held = meeting.status in HELD
    meeting.status = "cancelled"
    meeting.reason = reason
    meeting.updated_at = now
    uow.session.flush()
    if held:
        _release(uow, case, meeting, meeting.request_id, reason)


def release_case_meetings(uow: UnitOfWork, case: Case, *, now: datetime) -> int:
    """The case was cancelled: every meeting booking holds, or may yet hold, a room for is
    cancelled and its room released (``booking.room_hold.released``, each in its own saga).
    Returns how many."""
    held = uow.session.scalars(
        select(Meeting).where(Meeting.case_id == case.id, Meeting.status.in_(HELD)).order_by(Meeting.id)
    )
    released = 0
    for meeting in list(held):
        cancel(uow, case, meeting, reason=CASE_CANCELLED, now=now)
        released += 1
    return released


def retry_meeting(cmd: RetryMeeting, *, uow: UnitOfWork) -> dict[str, Any]:
    """Staff ask booking again for a meeting it did not answer (``no_answer``) or refused
    (``rejected``), under a new ``request_id``, at new times when given (both, valid). The
    unanswered request is released, so a late hold of it does not stay behind."""
    case = load_case(uow, cmd.actor, cmd.case_id, for_update=True)
    meeting = _meeting_of(uow, case, cmd.meeting_id)
    RIGHTS.require(cmd.actor, "retry_meeting", meeting_subject(case, meeting))
    check_version(meeting.version, cmd.expected_versions)
    _require_state(
        meeting,
        "retry_meeting",
        RETRYABLE,
        _("Only a meeting booking did not answer or refused can be asked for again."),
    )
    check_case_takes_meetings(case, cmd.actor)
    now = cmd.at or utcnow()
    if (cmd.starts_at is None) != (cmd.ends_at is None):
        raise RuleViolation(_("Give both the new start and the new end, or neither."), code="rule/times-together")
    if cmd.starts_at is not None and cmd.ends_at is not None:
        meeting.starts_at, meeting.ends_at = check_times(cmd.starts_at, cmd.ends_at, now)
    else:
        check_times(meeting.starts_at, meeting.ends_at, now)
    if meeting.status == "no_answer":
        _release(uow, case, meeting, meeting.request_id, ASKED_AGAIN)
    meeting.request_id = new_id()
    meeting.status = "requested"
    meeting.reservation_id = meeting.space_name = meeting.space_name_zh = None
    meeting.rule = meeting.reason = None
    meeting.alternatives = []
    meeting.requested_at = now
    meeting.answered_at = None
    meeting.updated_at = now
    uow.session.flush()
    _ask_booking(uow, case, meeting)
    return meeting_view(meeting)


# Booking's answers -----------------------------------------------------------------------------

ANSWER_OF_EVENT = {
    "booking.reservation.requested": "pending_approval",
    "booking.reservation.confirmed": "confirmed",
    "booking.reservation.rejected": "rejected",
    "booking.reservation.cancelled": "cancelled",
}


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def on_booking_answer(event: Event, *, uow: UnitOfWork) -> None:
    """Booking's answer to a room hold → the meeting of its ``request_id`` (none: not ours,
    ignored). Taken only from the states :data:`ANSWER_MOVES` names, so a late or repeated answer
    changes nothing. A reschedule carries the reservation's status (``confirmed`` or
    ``pending_approval``) and its new times and room."""
    data = event.data
    request_id = data.get("request_id")
    if not request_id:
        return
    meeting = uow.session.scalars(select(Meeting).where(Meeting.request_id == request_id).with_for_update()).first()
    if meeting is None:
        return
    target = ANSWER_OF_EVENT.get(event.type) or data.get("status")
    if target not in ANSWER_MOVES or meeting.status not in ANSWER_MOVES[target]:
        return
    now = utcnow()
    if target in ("pending_approval", "confirmed"):
        meeting.reservation_id = data.get("reservation_id")
        meeting.space_name = data.get("space_name")
        meeting.space_name_zh = data.get("space_name_zh")
        meeting.starts_at = _moment(data.get("starts_at")) or meeting.starts_at
        meeting.ends_at = _moment(data.get("ends_at")) or meeting.ends_at
    elif target == "rejected":
        meeting.rule = data.get("rule")
        meeting.reason = data.get("reason")
        meeting.alternatives = list(data.get("alternatives") or [])
    else:  # cancelled by booking: by the desk, or its owner there
        meeting.reason = data.get("reason")
    meeting.status = target
    meeting.answered_at = meeting.answered_at or now
    meeting.updated_at = now
    uow.session.flush()


def mark_unanswered(*, uow: UnitOfWork, now: datetime | None = None, minutes: float = MEETING_ANSWER_MINUTES) -> int:
    """The worker's job: a meeting booking has not answered for ``minutes`` is ``no_answer``
    (staff may ask again or cancel it; a late answer is still taken). Returns how many."""
    now = now or utcnow()
    due = uow.session.scalars(
        select(Meeting)
        .where(Meeting.status == "requested", Meeting.requested_at <= now - timedelta(minutes=minutes))
        .order_by(Meeting.requested_at, Meeting.id)
        .with_for_update()
    )
    marked = 0
    for meeting in list(due):
        meeting.status = "no_answer"
        meeting.updated_at = now
        marked += 1
    uow.session.flush()
    return marked
