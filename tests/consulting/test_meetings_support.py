"""Helpers of the meetings' tests (no tests here): asking for a meeting over HTTP, booking's
answers delivered to consulting's inbox as booking would publish them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.consulting.worker import participant
from shared.events import Event
from shared.settings import Settings
from tests.booking.conftest import ORG_A, Api
from tests.consulting.conftest import outbox as consulting_outbox

ROOM = str(uuid.UUID("00000000-0000-4000-8000-0000000005a1"))


def soon(hours: int = 48, minutes: int = 0) -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours, minutes=minutes)


def meeting_in(**fields: Any) -> dict[str, Any]:
    start = fields.pop("start", soon())
    return {
        "title": fields.pop("title", "Kick-off with the firm"),
        "starts_at": start.isoformat(),
        "ends_at": fields.pop("end", start + timedelta(hours=1)).isoformat(),
        "attendees": fields.pop("attendees", 6),
        **fields,
    }


def ask(api: Api, case: dict[str, Any], user: str = "alice", body: Any = None, **headers: str) -> Any:
    return api.post(f"/cases/{case['id']}/meetings", meeting_in() if body is None else body, user=user, **headers)


def asked(api: Api, case: dict[str, Any], user: str = "alice", body: Any = None, **headers: str) -> dict[str, Any]:
    response = ask(api, case, user, body, **headers)
    assert response.status_code == 201, response.json
    return dict(response.json)


def read(api: Api, meeting: dict[str, Any], user: str = "alice", **headers: str) -> dict[str, Any]:
    response = api.get(f"/cases/{meeting['case_id']}/meetings/{meeting['id']}", user=user, headers=headers)
    assert response.status_code == 200, response.json
    return dict(response.json)


def act(api: Api, meeting: dict[str, Any], action: str, user: str, body: Any = None, **headers: str) -> Any:
    headers = {"If-Match": f'"{meeting["version"]}"', **headers}
    return api.post(f"/cases/{meeting['case_id']}/meetings/{meeting['id']}/{action}", body, user=user, **headers)


def holds(db: Any, kind: str = "requested") -> list[dict[str, Any]]:
    return consulting_outbox(db, f"booking.room_hold.{kind}")


def answer(
    settings: Settings,
    request_id: str,
    verb: str,
    *,
    meeting: dict[str, Any] | None = None,
    correlationid: str = "booking-answer",
    **data: Any,
) -> str:
    """Deliver ``booking.reservation.<verb>`` for the hold ``request_id`` to consulting's inbox."""
    start = datetime.fromisoformat(meeting["starts_at"]) if meeting else soon()
    end = datetime.fromisoformat(meeting["ends_at"]) if meeting else start + timedelta(hours=1)
    status = {"requested": "pending_approval", "rescheduled": "confirmed"}.get(verb, verb)
    payload: dict[str, Any] = {
        "reservation_id": None if verb == "rejected" else data.pop("reservation_id", str(uuid.uuid4())),
        "status": status,
        "space_id": None if verb == "rejected" else ROOM,
        "space_name": None if verb == "rejected" else "Meeting Room 3A",
        "space_name_zh": None if verb == "rejected" else "3A会议室",
        "space_kind": None if verb == "rejected" else "conference_room",
        "org_id": ORG_A,
        "booked_by": "user:alice",
        "title": "Kick-off with the firm",
        "attendees": 6,
        "starts_at": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "ends_at": end.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "price": None if verb == "rejected" else "100.00",
        "currency": None if verb == "rejected" else "CNY",
        "version": None if verb == "rejected" else 1,
        "request_id": request_id,
        **data,
    }
    event = Event(
        type=f"booking.reservation.{verb}",
        source="/parkhub/booking",
        data=payload,
        correlationid=correlationid,
        orgid=ORG_A,
    )
    return participant(settings).inbox.deliver(event.to_dict()).value
