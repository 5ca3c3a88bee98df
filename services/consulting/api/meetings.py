"""Meetings on a case: the tenant or the firm asks for one, booking holds a room for it.

Asking takes ``Idempotency-Key`` and answers 201 with the meeting (``requested``; booking's answer
follows on the bus: read the meeting again). Cancelling and asking again take ``If-Match`` with
the meeting's ``ETag``. A case the caller may not read is a 404 for every path under it.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.consulting.api.schemas.meetings import (
    MeetingCancelSchema,
    MeetingInSchema,
    MeetingListSchema,
    MeetingRetrySchema,
    MeetingSchema,
)
from services.consulting.commands.meetings import CancelMeeting, RequestMeeting, RetryMeeting
from services.consulting.handlers.meetings import cancel_meeting, request_meeting, retry_meeting
from services.consulting.permissions import RIGHTS
from services.consulting.queries.meetings import case_meetings, meeting_url, one_meeting
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "consulting-meetings",
    "parkhub.consulting.meetings",
    description="Meetings on a case, with the room booking holds for them.",
)


def answer(meeting: dict[str, Any], status: int = 200) -> Any:
    """The meeting with its ``ETag`` (and ``Location`` when it was just asked for)."""
    return meeting, status, versioned_headers(meeting["version"], meeting_url(meeting) if status == 201 else None)


@blp.route("/cases/<uuid:case_id>/meetings")
class CaseMeetings(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, MeetingListSchema)
    def get(self, case_id: Any) -> dict[str, Any]:
        """The case's meetings, newest first, each with its room or why there is none."""
        with reading() as session:
            return {"items": case_meetings(session, current_principal(), str(case_id))}

    @RIGHTS.guard("request_meeting", current_principal)
    @idempotent()
    @blp.arguments(MeetingInSchema)
    @blp.response(201, MeetingSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """Ask for a meeting on a case that is assigned, accepted, in progress or waiting on the
        tenant (409 ``rule/state-transition`` otherwise): booking is asked to hold a room of
        ``space_kind`` for the attendees. 422 ``rule/end-after-start``, ``rule/in-the-past``,
        ``rule/meeting-too-long`` (over 8 hours). ``Location``: the meeting."""
        command = RequestMeeting(
            actor=current_principal(),
            case_id=str(case_id),
            title=body["title"],
            starts_at=body["starts_at"],
            ends_at=body["ends_at"],
            attendees=body["attendees"],
            space_kind=body["space_kind"],
            layout=body.get("layout"),
            equipment=tuple(body.get("equipment") or ()),
            note=body.get("note"),
        )
        return answer(execute(request_meeting, command), 201)


@blp.route("/cases/<uuid:case_id>/meetings/<uuid:meeting_id>")
class CaseMeeting(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, MeetingSchema)
    def get(self, case_id: Any, meeting_id: Any) -> Any:
        """One meeting: its status, the room booking holds (``space_display_name`` in the
        reader's language) or booking's rule, reason and the nearest free alternatives."""
        with reading() as session:
            return answer(one_meeting(session, current_principal(), str(case_id), str(meeting_id)))


@blp.route("/cases/<uuid:case_id>/meetings/<uuid:meeting_id>/cancel")
class MeetingCancel(MethodView):
    @RIGHTS.guard("cancel_meeting", current_principal)
    @blp.arguments(MeetingCancelSchema(), required=False)
    @blp.response(200, MeetingSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any, meeting_id: Any) -> Any:
        """Cancel a meeting (who asked for it, a tenant admin, staff); the room is released
        (409 ``rule/state-transition`` once cancelled)."""
        command = CancelMeeting(
            current_principal(), str(case_id), str(meeting_id), if_match_versions(), (body or {}).get("reason")
        )
        return answer(execute(cancel_meeting, command))


@blp.route("/cases/<uuid:case_id>/meetings/<uuid:meeting_id>/retry")
class MeetingRetry(MethodView):
    @RIGHTS.guard("retry_meeting", current_principal)
    @blp.arguments(MeetingRetrySchema(), required=False)
    @blp.response(200, MeetingSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any, meeting_id: Any) -> Any:
        """Staff ask booking again for a meeting it did not answer or refused, under a new
        request, at new times when given (both: one of the alternatives, say). 409
        ``rule/state-transition`` for any other meeting; 422 ``rule/times-together``."""
        body = body or {}
        command = RetryMeeting(
            current_principal(),
            str(case_id),
            str(meeting_id),
            if_match_versions(),
            starts_at=body.get("starts_at"),
            ends_at=body.get("ends_at"),
        )
        return answer(execute(retry_meeting, command))
