"""Journey 1 on the embedded platform (tests/journeys/meeting.py), and its failure paths: a case
that takes no meeting, a meeting cancelled before booking answers, a retry at an alternative.

The journey needs the whole demo (``parkhub seed``: booking's spaces, consulting's catalogue and
firms): the journeys' ``embedded`` (tests/journeys/conftest.py) runs over it.
"""

from __future__ import annotations

from typing import Any

from tests.journeys import meeting
from tests.journeys.driver import EmbeddedDriver
from tests.journeys.meeting import BOOKING, CONSULTING, act, ask, assigned_case, meeting_time, settled


def test_a_meeting_for_a_case(embedded: EmbeddedDriver) -> None:
    meeting.run(embedded)


def test_a_cancelled_case_takes_no_meeting(embedded: EmbeddedDriver) -> None:
    case = assigned_case(embedded)
    case = act(embedded, "alice", case, "cancel")
    start, _end = meeting_time()
    body = {"title": "Too late", "starts_at": start.isoformat(), "ends_at": _end.isoformat(), "attendees": 4}
    refused = embedded.call("alice", "POST", f"{CONSULTING}/cases/{case['id']}/meetings", json=body)
    assert refused.status == 409
    assert refused.json["type"].endswith("/rule/state-transition")


def confirmed_titled(embedded: EmbeddedDriver, title: str) -> list[dict[str, Any]]:
    found = embedded.call("alice", "GET", f"{BOOKING}/reservations?status=confirmed&page_size=200").expect(200)
    return [r for r in found["items"] if r["title"] == title]


def test_a_meeting_cancelled_at_once_leaves_no_room_held(embedded: EmbeddedDriver) -> None:
    case = assigned_case(embedded)
    start, _end = meeting_time(17)
    asked = ask(embedded, "alice", case, start, title="Cancelled at once", attendees=4)
    headers = {"If-Match": f'"{asked["version"]}"'}
    path = f"{CONSULTING}/cases/{case['id']}/meetings/{asked['id']}/cancel"
    assert embedded.call("alice", "POST", path, json={}, headers=headers).expect(200)["status"] == "cancelled"
    # Whether booking placed the hold before the release or not, none stays confirmed.
    embedded.wait_for(lambda: not confirmed_titled(embedded, "Cancelled at once") or None, "no room held", 10)
    shown = embedded.call("alice", "GET", f"{CONSULTING}/cases/{case['id']}/meetings/{asked['id']}").expect(200)
    assert shown["status"] == "cancelled"


def test_the_desk_asks_again_at_an_alternative(embedded: EmbeddedDriver) -> None:
    case = assigned_case(embedded)
    start, _end = meeting_time(18)
    first = settled(embedded, ask(embedded, "lawyer", case, start, layout="boardroom"), "confirmed")
    second = settled(embedded, ask(embedded, "alice", case, start, layout="boardroom"), "rejected")
    offered = second["alternatives"][0]
    headers = {"If-Match": f'"{second["version"]}"'}
    path = f"{CONSULTING}/cases/{case['id']}/meetings/{second['id']}/retry"
    body = {"starts_at": offered["starts_at"], "ends_at": offered["ends_at"]}
    again = embedded.call("desk", "POST", path, json=body, headers=headers).expect(200)
    assert again["request_id"] != second["request_id"]
    again = settled(embedded, again, "confirmed")
    assert again["starts_at"] == offered["starts_at"]
    assert again["reservation_id"] != first["reservation_id"]
