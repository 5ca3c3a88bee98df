"""Spaces: everybody signed in reads, park admin writes (If-Match), closures, timelines."""

from __future__ import annotations

from decimal import Decimal

from tests.booking.conftest import at, park_day
from tests.booking.factories import ReservationFactory, SpaceFactory

NEW_SPACE = {
    "code": "c2-boardroom",
    "kind": "conference_room",
    "name": "Boardroom C2",
    "name_zh": "C2董事会议室",
    "building": "Phase II · Building C2",
    "floor": "5F",
    "capacity": 16,
    "layouts": {"boardroom": 16},
    "equipment": ["video_conferencing", "projector"],
    "opening_hours": {"monday": [{"opens": "08:30", "closes": "12:00"}, {"opens": "13:00", "closes": "18:00"}]},
    "rules": {
        "slot_minutes": 15,
        "min_duration_minutes": 30,
        "max_duration_minutes": 240,
        "lead_time_minutes": 30,
        "horizon_days": 60,
        "cleanup_minutes": 15,
    },
    "approval": {"mode": "never"},
    "price": {"hourly": "180.50"},
    "cancellation": {"free_until_hours_before": 12, "late_fee_percent": "25"},
}


def test_everybody_signed_in_reads_spaces(api, db):
    SpaceFactory(kind="badminton_court", capacity=4, layouts={"court": 4}, equipment=["changing_rooms"])
    SpaceFactory(capacity=40, equipment=["projector", "led_wall"])
    SpaceFactory(active=False)
    for user in ("bob", "carol", "bank", "desk"):
        assert api.get("/spaces", user=user).status_code == 200
    assert api.get("/spaces", user=None).status_code == 401
    assert api.get("/spaces").json["total"] == 2
    assert api.get("/spaces?include_inactive=true", user="admin").json["total"] == 3
    assert api.get("/spaces?kind=badminton_court").json["total"] == 1
    assert api.get("/spaces?equipment=led_wall&min_capacity=30").json["total"] == 1


def test_park_admin_creates_and_changes_a_space(api, db):
    assert api.post("/spaces", NEW_SPACE, user="alice").status_code == 403
    assert api.post("/spaces", NEW_SPACE, user="desk").status_code == 403
    created = api.post("/spaces", NEW_SPACE, user="admin")
    assert created.status_code == 201, created.json
    space = created.json
    assert space["price"] == {"hourly": "180.50", "currency": "CNY"}
    assert space["opening_hours"]["monday"] == [
        {"opens": "08:30", "closes": "12:00"},
        {"opens": "13:00", "closes": "18:00"},
    ]
    assert space["opening_hours"]["sunday"] == []
    assert space["timezone"] == "Asia/Shanghai"
    path = f"/spaces/{space['id']}"
    assert api.get(path, user="bob").headers["ETag"] == '"1"'
    assert api.patch(path, {"capacity": 18}).status_code == 428
    assert api.patch(path, {"capacity": 18}, **{"If-Match": '"7"'}).status_code == 412
    changed = api.patch(path, {"capacity": 18, "price": {"hourly": "200"}}, **{"If-Match": '"1"'})
    assert changed.status_code == 200
    assert (changed.json["capacity"], changed.json["price"]["hourly"], changed.json["version"]) == (18, "200.00", 2)
    assert changed.json["name_zh"] == "C2董事会议室"
    duplicate = api.post("/spaces", NEW_SPACE, user="admin")
    assert duplicate.status_code == 409
    assert duplicate.json["type"].endswith("rule/space-code-taken")


def test_a_space_that_cannot_work_is_refused_with_the_rule(api, db):
    broken = {**NEW_SPACE, "code": "broken", "rules": {**NEW_SPACE["rules"], "slot_minutes": 7}}
    response = api.post("/spaces", broken, user="admin")
    assert response.status_code == 422
    assert response.json["type"].endswith("rule/space-config")
    invalid = api.post(
        "/spaces",
        {
            **NEW_SPACE,
            "code": "x",
            "kind": "spaceship",
            "opening_hours": {"monday": [{"opens": "25:00", "closes": "26:00"}]},
        },
        user="admin",
    )
    assert invalid.status_code == 422
    assert {"code", "kind", "opening_hours"} <= set(invalid.json["errors"])


def test_closures_block_bookings_and_can_be_lifted(api, db):
    space = SpaceFactory()
    day = park_day(4)
    closure = api.post(
        f"/spaces/{space.id}/closures",
        {
            "start": at(day, "00:00").isoformat(),
            "end": at(day, "23:59").isoformat(),
            "reason": "Air-conditioning maintenance",
        },
        user="admin",
    )
    assert closure.status_code == 201
    assert (
        api.post(
            f"/spaces/{space.id}/closures",
            {"start": at(day, "09:00").isoformat(), "end": at(day, "10:00").isoformat(), "reason": "x"},
            user="alice",
        ).status_code
        == 403
    )
    [listed] = api.get(f"/spaces/{space.id}/closures", user="bob").json["items"]
    assert listed["reason"] == "Air-conditioning maintenance"
    blocked = api.book(space.id, at(day, "10:00"), at(day, "11:00"))
    assert blocked.json["type"].endswith("rule/space-closed")
    assert api.delete(f"/spaces/{space.id}/closures/{closure.json['id']}").status_code == 204
    assert api.book(space.id, at(day, "10:00"), at(day, "11:00")).status_code == 201


def test_timeline_shows_others_only_as_busy(api, db):
    space = SpaceFactory(setup_minutes=15, cleanup_minutes=15, hourly_price=Decimal("1"))
    day = park_day(5)
    mine = api.book(space.id, at(day, "09:00"), at(day, "10:00"), title="Alice's board meeting").json
    api.book(space.id, at(day, "14:00"), at(day, "15:00"), user="carol", title="Carol's secret pitch")
    timeline = api.get(f"/spaces/{space.id}/timeline?date={day.isoformat()}").json
    assert timeline["timezone"] == "Asia/Shanghai"
    assert timeline["open"] == [{"start": at(day, "08:00").isoformat(), "end": at(day, "22:00").isoformat()}]
    ours, theirs = timeline["busy"]
    assert ours["reservation_id"] == mine["id"] and ours["title"] == "Alice's board meeting"
    assert set(theirs) == {"start", "end", "hold_start", "hold_end"}
    assert "secret pitch" not in str(timeline)
    assert theirs["hold_start"] == at(day, "13:45").isoformat()
    # Free: between the holds, once this booking's own buffers are added.
    assert timeline["free"] == [
        {"start": at(day, "08:00").isoformat(), "end": at(day, "08:30").isoformat()},
        {"start": at(day, "10:30").isoformat(), "end": at(day, "13:30").isoformat()},
        {"start": at(day, "15:30").isoformat(), "end": at(day, "22:00").isoformat()},
    ]
    staff_view = api.get(f"/spaces/{space.id}/timeline?date={day.isoformat()}&view=week", user="desk").json
    assert all("title" in b for b in staff_view["busy"])
    assert len(staff_view["open"]) == 7


def test_inactive_spaces_take_no_bookings(api, db):
    space = SpaceFactory(active=False)
    day = park_day(3)
    response = api.book(space.id, at(day, "10:00"), at(day, "11:00"))
    assert response.json["type"].endswith("rule/space-inactive")
    ReservationFactory(space=SpaceFactory())  # factories compose


def test_the_api_documents_itself(api, db):
    spec = api.get("/openapi.json", user=None).json
    assert spec["openapi"].startswith("3.1")
    for path in (
        "/spaces",
        "/spaces/{space_id}/timeline",
        "/availability",
        "/reservations",
        "/reservations/{reservation_id}/check-in",
        "/series",
        "/reports/utilisation",
        "/calendars/{collection}/{owner_id}/{secret}.ics",
    ):
        assert f"/api/v1/booking{path}" in spec["paths"], path
    ics = spec["paths"]["/api/v1/booking/calendars/{collection}/{owner_id}/{secret}.ics"]["get"]
    assert ics["security"] == []
