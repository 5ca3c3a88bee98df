"""Editing a booking's details with PATCH /reservations/{id} and If-Match: who may, what is
checked again (seating, approval), what is recorded and published, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from services.booking.models import Reservation
from tests.booking.conftest import ORG_A, outbox
from tests.booking.factories import ReservationFactory, SpaceFactory

PROBLEM = "https://parkhub.tianfu-lifescience.cn/problems/"
ZH = {"Accept-Language": "zh-CN"}


def code(response) -> str:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return str(response.json["type"]).removeprefix(PROBLEM)


def edit(api, reservation, body, user="bob", **headers):
    headers.setdefault("If-Match", f'"{reservation["version"]}"')
    return api.patch(f"/reservations/{reservation['id']}", body, user=user, **headers)


def sequence(db, reservation_id: str) -> int:
    with db.reading() as session:
        return int(session.execute(select(Reservation.sequence).where(Reservation.id == reservation_id)).scalar_one())


@pytest.fixture
def booked(api, db, slot):
    """Bob's (a tenant member's) confirmed reservation of a 20-seat room, 3 days ahead."""
    space = SpaceFactory(hourly_price=Decimal("200.00"))
    start, end = slot(3)
    response = api.book(space.id, start, end, user="bob", attendees=6, layout="round_table", note="Tea please")
    assert response.status_code == 201, response.json
    return response.json


def test_the_organiser_edits_every_detail(api, db, booked):
    before = sequence(db, booked["id"])
    events = len(outbox(db))
    body = {
        "title": "  Board meeting  ",
        "attendees": 10,
        "layout": "classroom",
        "note": "Projector on",
        "visitors": [{"name": "Dr. Müller", "company": "Roche", "car_plate": "川a 12345"}],
    }
    response = edit(api, booked, body)
    assert response.status_code == 200, response.json
    edited = response.json
    assert (edited["title"], edited["attendees"], edited["layout"], edited["note"]) == (
        "Board meeting",
        10,
        "classroom",
        "Projector on",
    )
    assert edited["visitors"][0]["car_plate"] == "川A12345"
    assert edited["status"] == "confirmed"
    assert edited["price"] == booked["price"]  # time is not edited, so neither is the price
    assert (edited["start"], edited["end"], edited["space"]["id"]) == (
        booked["start"],
        booked["end"],
        booked["space"]["id"],
    )
    assert edited["version"] > booked["version"]
    assert response.headers["ETag"] == f'"{edited["version"]}"'
    assert sequence(db, booked["id"]) == before + 1
    assert api.get(f"/reservations/{booked['id']}", user="bob").json == edited

    changed, visitors = outbox(db)[events:]
    assert changed["type"] == "booking.reservation.changed"
    assert changed["data"]["changes"] == ["title", "attendees", "layout", "note", "visitors"]
    assert changed["data"]["previous_status"] is None
    assert (changed["data"]["title"], changed["data"]["attendees"]) == ("Board meeting", 10)
    assert visitors["type"] == "booking.reservation.visitors_changed"

    [line] = [
        h for h in api.get(f"/reservations/{booked['id']}/history", user="bob").json["items"] if h["action"] == "edit"
    ]
    assert line["action_label"] == "Details changed"
    assert (line["from_status"], line["to_status"], line["actor"]) == ("confirmed", "confirmed", "user:bob")
    assert line["details"]["title"] == {"from": "Team meeting", "to": "Board meeting"}
    assert line["details"]["attendees"] == {"from": 6, "to": 10}
    assert line["details"]["layout"] == {"from": "round_table", "to": "classroom"}
    assert line["details"]["note"] == {"from": "Tea please", "to": "Projector on"}
    assert line["details"]["visitors"]["from"] == []
    assert line["details"]["visitors"]["to"][0]["car_plate"] == "川A12345"


def test_a_field_left_out_stays_and_null_clears(api, db, booked):
    response = edit(api, booked, {"note": None, "layout": None}, **{"Content-Type": "application/merge-patch+json"})
    assert response.status_code == 200, response.json
    assert (response.json["note"], response.json["layout"], response.json["title"]) == (None, None, "Team meeting")
    with_visitors = edit(api, response.json, {"visitors": [{"name": "A"}]}).json
    cleared = edit(api, with_visitors, {"visitors": None})
    assert cleared.status_code == 200 and cleared.json["visitors"] == []


def test_merge_patch_content_type_is_read_as_json(api, db, booked):
    response = api.client.patch(
        f"/api/v1/booking/reservations/{booked['id']}",
        data='{"title": "Merged"}',
        headers=api.headers("bob", **{"Content-Type": "application/merge-patch+json", "If-Match": '"1"'}),
    )
    assert response.status_code == 200, response.json
    assert response.json["title"] == "Merged"


def test_a_patch_that_changes_nothing_writes_nothing(api, db, booked):
    events = len(outbox(db))
    response = edit(api, booked, {"title": "Team meeting", "attendees": 6})
    assert response.status_code == 200
    assert response.json["version"] == booked["version"]
    assert len(outbox(db)) == events
    assert edit(api, booked, {}).json["version"] == booked["version"]


# Who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("bob", 200),  # the organiser, a tenant member
        ("alice", 200),  # a tenant admin of the organisation
        ("carol", 404),  # another tenant's admin
        ("dave", 404),  # another tenant's member
        ("desk", 200),
        ("admin", 200),
        ("bank", 403),  # a partner books nothing
    ],
)
def test_who_may_edit(api, db, booked, user, status):
    events = len(outbox(db))
    response = edit(api, booked, {"title": f"Edited by {user}"}, user=user)
    assert response.status_code == status, response.json
    if status == 200:
        assert response.json["title"] == f"Edited by {user}"
        assert response.json["can_manage"] is True
    else:
        assert response.mimetype == "application/problem+json"
        assert len(outbox(db)) == events
        assert api.get(f"/reservations/{booked['id']}", user="bob").json["title"] == "Team meeting"


def test_another_member_of_the_organisation_may_not_edit(api, db):
    theirs = ReservationFactory(booked_by="user:erin", booked_by_name="Erin Zhao", org_id=ORG_A)
    response = api.patch(f"/reservations/{theirs.id}", {"title": "Mine now"}, user="bob", **{"If-Match": "*"})
    assert response.status_code == 403
    zh = api.patch(f"/reservations/{theirs.id}", {"title": "Mine now"}, user="bob", **{"If-Match": "*", **ZH})
    assert zh.json["detail"] == "只有预订人、该机构的入驻企业管理员、服务台工作人员或园区管理员可以修改预订详情。"
    assert (
        api.patch(f"/reservations/{theirs.id}", {"title": "Ours"}, user="alice", **{"If-Match": "*"}).status_code == 200
    )


def test_without_a_token_it_is_a_401(api, db, booked):
    assert edit(api, booked, {"title": "x"}, user=None).status_code == 401


def test_who_may_not_call_is_told_before_the_body_is_read(api, db, booked):
    assert edit(api, booked, {"start": "nonsense"}, user=None).status_code == 401
    assert edit(api, booked, {"start": "nonsense"}, user="bank").status_code == 403


# If-Match --------------------------------------------------------------------------------------


def test_if_match_is_required_and_checked(api, db, booked):
    missing = api.patch(f"/reservations/{booked['id']}", {"title": "x"}, user="bob")
    assert missing.status_code == 428
    assert edit(api, booked, {"title": "First"}).status_code == 200
    stale = edit(api, booked, {"title": "Second"})  # still the version read before the first edit
    assert stale.status_code == 412
    assert api.get(f"/reservations/{booked['id']}", user="bob").json["title"] == "First"
    assert edit(api, booked, {"title": "Any"}, **{"If-Match": "*"}).status_code == 200


# What is judged again --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"attendees": 21}, "rule/capacity"),  # the room seats 20
        ({"attendees": 13, "layout": "classroom"}, "rule/capacity"),  # classroom seats 12
        ({"layout": "classroom", "attendees": 15}, "rule/capacity"),
        ({"layout": "banquet"}, "rule/layout"),  # not offered here
    ],
)
def test_seating_is_judged_as_for_a_booking(api, db, booked, body, rule):
    events = len(outbox(db))
    response = edit(api, booked, body)
    assert response.status_code == 422
    assert code(response) == rule
    assert len(outbox(db)) == events
    assert api.get(f"/reservations/{booked['id']}", user="bob").json["version"] == booked["version"]


def test_a_layout_that_cannot_seat_the_current_attendees_is_refused(api, db, slot):
    space = SpaceFactory()
    start, end = slot(3)
    booked = api.book(space.id, start, end, user="bob", attendees=15).json
    response = edit(api, booked, {"layout": "classroom"})
    assert response.status_code == 422 and code(response) == "rule/capacity"
    assert response.json["capacity"] == 12


def test_a_tenants_change_that_needs_approval_sends_it_back_to_the_desk(api, db, slot):
    space = SpaceFactory(approval_mode="attendees_above", approval_threshold=10)
    start, end = slot(3)
    booked = api.book(space.id, start, end, user="bob", attendees=8).json
    assert booked["status"] == "confirmed"
    events = len(outbox(db))
    response = edit(api, booked, {"attendees": 15})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "pending_approval"
    assert response.json["start"] == booked["start"]  # the slot is kept
    [changed] = outbox(db)[events:]
    assert changed["type"] == "booking.reservation.changed"
    assert (changed["data"]["status"], changed["data"]["previous_status"]) == ("pending_approval", "confirmed")
    history = api.get(f"/reservations/{booked['id']}/history", user="bob").json["items"]
    assert (history[-1]["from_status"], history[-1]["to_status"]) == ("confirmed", "pending_approval")
    # Nobody else can take the slot meanwhile, and the desk approves again.
    assert (
        api.book(space.id, *(datetime.fromisoformat(booked[k]) for k in ("start", "end")), user="carol").status_code
        == 409
    )
    approved = api.act(response.json, "approve", user="desk")
    assert approved.status_code == 200 and approved.json["status"] == "confirmed"
    # Fewer attendees again never needs approval.
    assert edit(api, approved.json, {"attendees": 5}).json["status"] == "confirmed"


def test_staff_changes_never_need_approval(api, db, slot):
    space = SpaceFactory(approval_mode="attendees_above", approval_threshold=10)
    start, end = slot(3)
    booked = api.book(space.id, start, end, user="bob", attendees=8).json
    for user in ("desk", "admin"):
        response = edit(api, booked, {"attendees": 15 if user == "desk" else 16}, user=user)
        assert response.status_code == 200 and response.json["status"] == "confirmed"
        booked = response.json


def test_a_pending_request_stays_pending_and_an_approved_hall_is_asked_again_for_more(api, db, slot):
    threshold = SpaceFactory(approval_mode="attendees_above", approval_threshold=10)
    start, end = slot(3)
    pending = api.book(threshold.id, start, end, user="bob", attendees=12).json
    assert pending["status"] == "pending_approval"
    assert edit(api, pending, {"attendees": 5}).json["status"] == "pending_approval"  # only an approval approves
    hall = SpaceFactory(approval_mode="always")
    requested = api.book(hall.id, start, end, user="bob", attendees=8).json
    approved = api.act(requested, "approve", user="desk").json
    # The desk approved 8 attendees, not the hall: 18 go back to it (review of issue 7), fewer do not.
    assert edit(api, approved, {"attendees": 5}).json["status"] == "confirmed"
    again = api.get(f"/reservations/{approved['id']}", user="bob").json
    assert edit(api, again, {"attendees": 18}).json["status"] == "pending_approval"


def test_a_change_that_needs_approval_after_the_start_is_refused(api, db):
    space = SpaceFactory(approval_mode="attendees_above", approval_threshold=10)
    started = ReservationFactory(
        space=space, start=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5), booked_by="user:bob"
    )
    response = api.patch(f"/reservations/{started.id}", {"attendees": 15}, user="bob", **{"If-Match": "*"})
    assert response.status_code == 422 and code(response) == "rule/edit-needs-approval"
    zh = api.patch(f"/reservations/{started.id}", {"attendees": 15}, user="bob", **{"If-Match": "*", **ZH})
    assert zh.json["detail"] == (
        "此座位安排的修改需要服务台审批，而此预订离开始太近，已来不及等待审批（已过免费取消时间或已开始）：请联系服务台修改。"
    )
    desk = api.patch(f"/reservations/{started.id}", {"attendees": 15}, user="desk", **{"If-Match": "*"})
    assert desk.status_code == 200 and desk.json["status"] == "confirmed"
    note = api.patch(f"/reservations/{started.id}", {"note": "Running late"}, user="bob", **{"If-Match": "*"})
    assert note.status_code == 200  # a change that needs no approval is fine after the start


def test_a_booking_inside_its_late_fee_period_does_not_go_back_to_approval(api, db):
    # A request waiting for approval is withdrawn without a fee: a confirmed booking that would
    # already owe one must not become such a request by an edit.
    space = SpaceFactory(approval_mode="attendees_above", approval_threshold=10, free_cancel_hours=48)
    soon = ReservationFactory(
        space=space, start=datetime.now(UTC).replace(microsecond=0) + timedelta(hours=30), booked_by="user:bob"
    )
    events = len(outbox(db))
    response = api.patch(f"/reservations/{soon.id}", {"attendees": 15}, user="bob", **{"If-Match": "*"})
    assert response.status_code == 422 and code(response) == "rule/edit-needs-approval"
    assert len(outbox(db)) == events
    later = ReservationFactory(
        space=space, start=datetime.now(UTC).replace(microsecond=0) + timedelta(hours=50), booked_by="user:bob"
    )
    back = api.patch(f"/reservations/{later.id}", {"attendees": 15}, user="bob", **{"If-Match": "*"})
    assert back.status_code == 200 and back.json["status"] == "pending_approval"
    cancelled = api.act(back.json, "cancel", user="bob")
    assert cancelled.json["cancellation_fee"]["amount"] == "0.00"  # it was free to cancel anyway


# States ----------------------------------------------------------------------------------------


def test_a_checked_in_reservation_can_still_be_edited(api, db):
    now = datetime.now(UTC).replace(microsecond=0)
    checked_in = ReservationFactory(status="checked_in", start=now - timedelta(minutes=10), checked_in_at=now)
    response = api.patch(f"/reservations/{checked_in.id}", {"visitors": [{"name": "Late guest"}]}, **{"If-Match": "*"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "checked_in"


@pytest.mark.parametrize("status", ["cancelled", "rejected", "completed", "no_show"])
def test_a_reservation_that_is_over_cannot_be_edited(api, db, status):
    over = ReservationFactory(status=status)
    response = api.patch(f"/reservations/{over.id}", {"title": "Too late"}, **{"If-Match": "*"})
    assert response.status_code == 409 and code(response) == "rule/state-transition"
    assert response.json["action"] == "edit"


def test_a_reservation_that_has_ended_cannot_be_edited(api, db):
    ended = ReservationFactory(status="checked_in", start=datetime.now(UTC) - timedelta(hours=2), minutes=60)
    response = api.patch(f"/reservations/{ended.id}", {"title": "After"}, user="desk", **{"If-Match": "*"})
    assert response.status_code == 422 and code(response) == "rule/edit-after-end"


# Bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"start": "2026-12-01T10:00:00+08:00"},  # time is a reschedule
        {"space_id": "00000000-0000-4000-8000-000000000000"},
        {"status": "confirmed"},
        {"title": None},
        {"title": "   "},
        {"title": "x" * 201},
        {"attendees": None},
        {"attendees": 0},
        {"attendees": "12"},
        {"attendees": 3.5},
        {"layout": "ballroom"},
        {"note": 12},
        {"visitors": [{"company": "No name"}]},
        {"visitors": [{"name": "A", "car_plate": "not a plate !!!"}]},
        {"visitors": "everyone"},
        [],
        "title",
    ],
)
def test_bad_input_is_a_clear_problem_and_writes_nothing(api, db, booked, body):
    events = len(outbox(db))
    response = edit(api, booked, body)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert len(outbox(db)) == events
    assert api.get(f"/reservations/{booked['id']}", user="bob").json == booked


def test_an_unknown_field_is_named(api, db, booked):
    response = edit(api, booked, {"start": "2026-12-01T10:00:00+08:00"})
    assert response.json["errors"] == {"start": ["Unknown field."]}
    zh = edit(api, booked, {"start": "2026-12-01T10:00:00+08:00"}, **ZH)
    assert zh.json["errors"] == {"start": ["未知字段。"]}


def test_an_unknown_reservation_is_a_404(api, db):
    missing = api.patch("/reservations/00000000-0000-4000-8000-000000000000", {"title": "x"}, **{"If-Match": "*"})
    assert missing.status_code == 404


# Documented ------------------------------------------------------------------------------------


def test_patch_is_in_booking_openapi_document(api, db):
    spec = api.get("/openapi.json", user=None).json
    operation = spec["paths"]["/api/v1/booking/reservations/{reservation_id}"]["patch"]
    assert any(p["name"] == "If-Match" for p in operation["parameters"])
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[-1]
    assert set(spec["components"]["schemas"][name]["properties"]) == {
        "title",
        "attendees",
        "layout",
        "note",
        "visitors",
    }


def test_patch_is_in_the_merged_openapi_document(park):
    paths = park.client.get("/api/v1/openapi.json").json["paths"]
    assert "patch" in paths["/api/v1/booking/reservations/{reservation_id}"]
