"""Journey 1, a meeting for a case, through HTTP only, as the demo users.

Alice (tenant admin of Kangcheng Cell Therapeutics) submits a legal consultation; the desk
triages it and assigns it to Tianfu Bridge Law Firm. The lawyer asks for a meeting of ten in a
boardroom layout (only the Round-Table Room fits): booking confirms the room, and the case shows
it. Alice asks for a second one at the same time: booking refuses it (the room is taken) and
offers the nearest free slots, shown in English and Chinese. A meeting needing equipment no room
has is refused without alternatives. Alice cancels the case: consulting releases the room,
booking cancels the reservation without a fee, and the meeting shows cancelled.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from shared.clock import PARK_TZ
from tests.journeys.driver import Driver

CONSULTING = "/api/v1/consulting"
BOOKING = "/api/v1/booking"
FIRM = "Tianfu Bridge Law Firm"
ROOM = ("Round-Table Room", "圆桌会议室")


def meeting_time(days_ahead: int = 16, clock: time = time(10, 0)) -> tuple[datetime, datetime]:
    """An hour on a day well inside the rooms' horizon, in park time."""
    day = datetime.now(PARK_TZ).date() + timedelta(days=days_ahead)
    start = datetime.combine(day, clock, tzinfo=PARK_TZ)
    return start, start + timedelta(hours=1)


def assigned_case(driver: Driver, subject: str = "Meeting journey: a first legal consultation") -> dict[str, Any]:
    """A legal consultation of alice's, triaged and assigned to the law firm by the desk."""
    items = driver.call("alice", "GET", f"{CONSULTING}/items?category=legal").expect(200)["items"]
    [item] = [i for i in items if i["code"] == "legal_consultation"]
    body = {
        "item_id": item["id"],
        "subject": subject,
        "description": "We need advice on a licence agreement.",
        "answers": {"question": "Can the licence be exclusive in Sichuan only?"},
    }
    case = driver.call("alice", "POST", f"{CONSULTING}/cases", json=body).expect(201)
    case = act(driver, "desk", case, "triage")
    if case["status"] != "assigned":
        firms = driver.call("desk", "GET", f"{CONSULTING}/firms").expect(200)["items"]
        [firm] = [f for f in firms if f["name"] == FIRM]
        case = act(driver, "desk", case, "assign", {"firm_org_id": firm["id"]})
    assert case["status"] == "assigned", case
    return case


def act(driver: Driver, user: str, case: dict[str, Any], action: str, body: Any = None) -> dict[str, Any]:
    headers = {"If-Match": f'"{case["version"]}"'}
    path = f"{CONSULTING}/cases/{case['id']}/{action}"
    return dict(driver.call(user, "POST", path, json=body or {}, headers=headers).expect(200))


def ask(driver: Driver, user: str, case: dict[str, Any], start: datetime, **needs: Any) -> dict[str, Any]:
    body = {
        "title": needs.pop("title", "Licence agreement review"),
        "starts_at": start.isoformat(),
        "ends_at": needs.pop("end", start + timedelta(hours=1)).isoformat(),
        "attendees": needs.pop("attendees", 10),
        **needs,
    }
    return dict(driver.call(user, "POST", f"{CONSULTING}/cases/{case['id']}/meetings", json=body).expect(201))


def meeting_of(driver: Driver, meeting: dict[str, Any], user: str = "alice", language: str = "en") -> dict[str, Any]:
    path = f"{CONSULTING}/cases/{meeting['case_id']}/meetings/{meeting['id']}"
    return dict(driver.call(user, "GET", path, headers={"Accept-Language": language}).expect(200))


def settled(driver: Driver, meeting: dict[str, Any], *statuses: str) -> dict[str, Any]:
    """The meeting once booking's answer has brought it to one of ``statuses``."""

    def reached() -> dict[str, Any] | None:
        shown = meeting_of(driver, meeting)
        return shown if shown["status"] in statuses else None

    return driver.wait_for(reached, f"meeting {meeting['id']} {'/'.join(statuses)}")


def run(driver: Driver) -> None:
    case = assigned_case(driver)
    start, end = meeting_time()

    # The lawyer asks for a meeting of ten around a boardroom table: only one room fits.
    held = ask(driver, "lawyer", case, start, layout="boardroom", note="Bring the draft licence.")
    assert held["status"] == "requested"
    held = settled(driver, held, "confirmed")
    assert (held["space_name"], held["space_name_zh"], held["space_display_name"]) == (*ROOM, ROOM[0])
    assert meeting_of(driver, held, "lawyer", "zh")["space_display_name"] == ROOM[1]
    reservation = driver.call("alice", "GET", f"{BOOKING}/reservations/{held['reservation_id']}").expect(200)
    assert reservation["status"] == "confirmed"
    listed = driver.call("alice", "GET", f"{CONSULTING}/cases/{case['id']}/meetings").expect(200)["items"]
    assert held["id"] in {m["id"] for m in listed}

    # Alice asks for another at the same time: the room is taken; the nearest free slots are offered.
    refused = settled(driver, ask(driver, "alice", case, start, layout="boardroom"), "rejected")
    assert refused["rule"] == "rule/no-double-booking", refused
    assert refused["alternatives"], refused
    for offered in refused["alternatives"]:
        assert offered["space_display_name"] == ROOM[0]
        assert datetime.fromisoformat(offered["starts_at"]) != start
        assert datetime.fromisoformat(offered["starts_at"]) > datetime.now(PARK_TZ)
    in_chinese = meeting_of(driver, refused, "alice", "zh")
    assert [a["space_display_name"] for a in in_chinese["alternatives"]] == [ROOM[1]] * len(refused["alternatives"])
    assert in_chinese["alternatives"][0]["starts_at"] == refused["alternatives"][0]["starts_at"]

    # Equipment no room has: refused, with nothing to offer instead.
    nowhere = settled(driver, ask(driver, "alice", case, end, attendees=4, equipment=["holodeck"]), "rejected")
    assert (nowhere["rule"], nowhere["alternatives"]) == ("rule/no-space-fits", [])

    # Alice cancels the case: the room is released, booking cancels the reservation without a fee.
    current = driver.call("alice", "GET", f"{CONSULTING}/cases/{case['id']}").expect(200)
    assert act(driver, "alice", current, "cancel")["status"] == "cancelled"

    def released() -> dict[str, Any] | None:
        shown = driver.call("alice", "GET", f"{BOOKING}/reservations/{held['reservation_id']}").expect(200)
        return shown if shown["status"] == "cancelled" else None

    cancelled = driver.wait_for(released, "the room released in booking")
    assert cancelled["cancellation_fee"]["amount"] == "0.00", cancelled
    assert meeting_of(driver, held)["status"] == "cancelled"
    assert meeting_of(driver, refused)["status"] == "rejected"
