"""Reservations over real HTTP: each rule named, no double booking, time zones, price and
quota, idempotency, If-Match, the lifecycle with its audit trail, and the events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tests.booking.conftest import OPERATOR, ORG_A, outbox
from tests.booking.factories import ClosureFactory, QuotaRuleFactory, ReservationFactory, SpaceFactory

PROBLEM = "https://parkhub.tianfu-lifescience.cn/problems/"


def code(response) -> str:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return response.json["type"].removeprefix(PROBLEM)


def test_a_reservation_is_created_priced_and_published(api, db, slot):
    space = SpaceFactory(hourly_price=Decimal("300.00"))
    start, end = slot(3, "10:00", "11:30")
    response = api.book(
        space.id,
        start,
        end,
        attendees=8,
        layout="round_table",
        visitors=[{"name": "Dr. Müller", "company": "Roche", "car_plate": "川A12345"}],
    )
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"/reservations/{body['id']}")
    assert body["status"] == "confirmed"
    assert body["price"] == {"amount": "450.00", "currency": "CNY"}
    assert (body["quota_minutes"], body["billable_minutes"]) == (0, 90)
    assert body["start"] == start.isoformat()  # answered in park time
    assert body["organisation"] == {"id": ORG_A, "name": "Chengdu Cell Therapeutics"}
    [visitor] = body["visitors"]
    assert (visitor["name"], visitor["company"], visitor["car_plate"]) == ("Dr. Müller", "Roche", "川A12345")
    assert visitor["plate_kind"] == "mainland"
    [event] = outbox(db)
    assert event["type"] == "booking.reservation.confirmed"
    assert event["orgid"] == ORG_A
    assert event["correlationid"]
    data = event["data"]
    assert data["reservation_id"] == body["id"]
    assert data["starts_at"] == start.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert (data["price"], data["currency"], data["attendees"]) == ("450.00", "CNY", 8)
    assert data["visitors"][0]["car_plate"] == "川A12345"


@pytest.mark.parametrize(
    ("when", "fields", "rule"),
    [
        (("11:00", "10:00"), {}, "rule/end-after-start"),
        (("10:10", "11:10"), {}, "rule/slot-granularity"),
        (("10:00", "10:30"), {}, "rule/min-duration"),
        (("09:00", "15:00"), {}, "rule/max-duration"),
        (("06:00", "07:00"), {}, "rule/opening-hours"),
        (("10:00", "11:00"), {"attendees": 30}, "rule/capacity"),
        (("10:00", "11:00"), {"layout": "banquet"}, "rule/layout"),
    ],
)
def test_each_broken_rule_is_a_problem_naming_it(api, db, slot, when, fields, rule):
    space = SpaceFactory(min_duration_minutes=60, max_duration_minutes=240)
    start, end = slot(3, *when)
    response = api.book(space.id, start, end, **fields)
    assert response.status_code == 422
    assert code(response) == rule
    assert outbox(db) == []


def test_lead_time_horizon_past_and_closures(api, db):
    space = SpaceFactory(
        lead_time_minutes=24 * 60,
        horizon_days=10,
        opening_hours={
            d: [["00:00", "24:00"]]
            for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        },
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert code(api.book(space.id, now + timedelta(hours=3), now + timedelta(hours=4))) == "rule/lead-time"
    assert code(api.book(space.id, now - timedelta(hours=3), now - timedelta(hours=2))) == "rule/in-the-past"
    assert code(api.book(space.id, now + timedelta(days=12), now + timedelta(days=12, hours=1))) == "rule/horizon"
    ClosureFactory(space_id=space.id, starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=4))
    assert code(api.book(space.id, now + timedelta(days=3, hours=2), now + timedelta(days=3, hours=3))) == (
        "rule/space-closed"
    )


def test_validation_errors_are_problems_with_fields_never_500(api, db):
    space = SpaceFactory()
    response = api.post(
        "/reservations",
        {"space_id": space.id, "start": "2026-12-01T10:00:00", "end": "tomorrow", "title": "", "attendees": 0},
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) >= {"start", "end", "title", "attendees"}
    assert api.post("/reservations", ["not", "an", "object"]).status_code == 422
    unknown = api.book("6f1d5f0e-1111-4111-8111-111111111111", *_slot())
    assert unknown.status_code == 404


def _slot(days: int = 3, hour: int = 10) -> tuple[datetime, datetime]:
    from tests.booking.conftest import at, park_day

    start = at(park_day(days), f"{hour:02d}:00")
    return start, start + timedelta(hours=1)


def test_no_double_booking_buffers_included(api, db, slot):
    space = SpaceFactory(setup_minutes=30, cleanup_minutes=30)
    assert api.book(space.id, *slot(3, "10:00", "11:00")).status_code == 201
    clash = api.book(space.id, *slot(3, "10:30", "11:30"), user="carol")
    assert clash.status_code == 409
    assert code(clash) == "rule/no-double-booking"
    # 11:00-12:00 would start its setup at 10:30, inside the first one's cleanup.
    assert code(api.book(space.id, *slot(3, "11:00", "12:00"), user="carol")) == "rule/no-double-booking"
    assert api.book(space.id, *slot(3, "12:00", "13:00"), user="carol").status_code == 201
    # The busy interval tells nothing about the other organisation's reservation.
    assert set(clash.json.get("busy", {})) <= {"start", "end"}


def test_a_client_in_another_offset_is_judged_in_park_time(api, db, slot):
    space = SpaceFactory()
    start, end = slot(4, "10:00", "11:00")
    plus_two = timezone(timedelta(hours=2))
    response = api.book(space.id, start.astimezone(plus_two), end.astimezone(plus_two))
    assert response.status_code == 201
    assert response.json["start"] == start.isoformat()  # 10:00+08:00, the same instant
    # 10:00-11:00 written as Z: 02:00Z-03:00Z; the same slot is taken.
    zulu = api.book(space.id, start.astimezone(UTC), end.astimezone(UTC), user="carol")
    assert code(zulu) == "rule/no-double-booking"
    # 06:00+02:00 is 12:00 in the park (open); 01:00Z is 09:00; 23:30Z the day before is 07:30 (closed).
    day = start.date()
    early = datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC) - timedelta(days=1)
    assert code(api.book(space.id, early, early + timedelta(hours=1), user="carol")) == "rule/opening-hours"


def test_quota_is_used_first_and_kept_on_the_reservation(api, db, slot):
    QuotaRuleFactory(org_id="*", space_kind="conference_room", free_hours_per_month=2)
    space = SpaceFactory(hourly_price=Decimal("200.00"))
    day = 3 if (datetime.now(UTC) + timedelta(days=3)).month == (datetime.now(UTC) + timedelta(days=4)).month else 5
    first = api.book(space.id, *slot(day, "09:00", "10:30")).json
    assert (first["quota_minutes"], first["billable_minutes"], first["price"]["amount"]) == (90, 0, "0.00")
    second = api.book(space.id, *slot(day, "11:00", "12:00")).json
    assert (second["quota_minutes"], second["billable_minutes"], second["price"]["amount"]) == (30, 30, "100.00")
    month = slot(day)[0].strftime("%Y-%m")
    usage = api.get(f"/quotas/usage?month={month}").json
    row = next(i for i in usage["items"] if i["space_kind"] == "conference_room")
    assert (row["free_hours_per_month"], row["used_minutes"], row["left_minutes"]) == (2, 120, 0)
    assert api.get(f"/quotas/usage?month={month}", user="carol").json["items"][0]["used_minutes"] == 0
    for nonsense in ("0000-01", "2026-13", "26-01"):  # once a 500, found by the fuzz test
        assert api.get(f"/quotas/usage?month={nonsense}").status_code == 422
    # The park's own events (the operator) are free of charge.
    staff = api.book(space.id, *slot(day, "14:00", "15:00"), user="desk", organisation_id=OPERATOR).json
    assert staff["price"]["amount"] == "0.00"


def test_idempotency_key_replays_the_first_answer(api, db, slot):
    space = SpaceFactory()
    start, end = slot()
    body = {"space_id": space.id, "start": start.isoformat(), "end": end.isoformat(), "title": "Board", "attendees": 4}
    first = api.post("/reservations", body, **{"Idempotency-Key": "key-1"})
    again = api.post("/reservations", body, **{"Idempotency-Key": "key-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    other = api.post("/reservations", {**body, "title": "Other"}, **{"Idempotency-Key": "key-1"})
    assert other.status_code == 422
    assert len(outbox(db)) == 1


def test_if_match_guards_every_transition(api, db, slot):
    space = SpaceFactory()
    reservation = api.book(space.id, *slot()).json
    path = f"/reservations/{reservation['id']}/cancel"
    assert api.post(path, {}).status_code == 428
    assert api.post(path, {}, **{"If-Match": '"99"'}).status_code == 412
    moved = api.post(
        f"/reservations/{reservation['id']}/reschedule",
        {"start": slot(4)[0].isoformat(), "end": slot(4)[1].isoformat()},
        **{"If-Match": f'"{reservation["version"]}"'},
    )
    assert moved.status_code == 200
    assert api.act(reservation, "cancel").status_code == 412  # the version it read is gone
    assert api.act(moved.json, "cancel").status_code == 200


def test_approval_flow_with_reason_and_history(api, db, slot):
    hall = SpaceFactory(kind="science_hall", capacity=1000, layouts={"theatre": 1000}, approval_mode="always")
    pending = api.book(hall.id, *slot(5), attendees=300)
    assert pending.status_code == 201
    assert pending.json["status"] == "pending_approval"
    assert api.act(pending.json, "approve").status_code == 403  # a tenant cannot approve
    assert code(api.act(pending.json, "reject", user="desk")) == "rule/reason-required"
    approved = api.act(pending.json, "approve", user="desk", reason="Fine by the desk")
    assert approved.status_code == 200
    assert approved.json["status"] == "confirmed"
    again = api.act(approved.json, "approve", user="desk")
    assert again.status_code == 409
    assert code(again) == "rule/state-transition"
    history = api.get(f"/reservations/{pending.json['id']}/history").json["items"]
    assert [(h["action"], h["from_status"], h["to_status"], h["actor"]) for h in history] == [
        ("request", None, "pending_approval", "user:alice"),
        ("approve", "pending_approval", "confirmed", "user:desk"),
    ]
    assert history[1]["reason"] == "Fine by the desk"
    types = [e["type"] for e in outbox(db)]
    assert types == ["booking.reservation.requested", "booking.reservation.confirmed"]


def test_rejection_carries_its_reason(api, db, slot):
    room = SpaceFactory(approval_mode="attendees_above", approval_threshold=10)
    small = api.book(room.id, *slot(3, "09:00", "10:00"), attendees=10).json
    assert small["status"] == "confirmed"
    big = api.book(room.id, *slot(3, "11:00", "12:00"), attendees=11).json
    assert big["status"] == "pending_approval"
    rejected = api.act(big, "reject", user="desk", reason="The room is reserved for the audit.")
    assert rejected.json["status"] == "rejected"
    assert rejected.json["reason"] == "The room is reserved for the audit."
    assert outbox(db)[-1]["data"]["reason"] == "The room is reserved for the audit."
    # A rejected reservation no longer holds its slot.
    assert api.book(room.id, *slot(3, "11:00", "12:00"), user="carol", attendees=5).status_code == 201


def test_cancellation_fee_follows_the_policy(api, db):
    space = SpaceFactory(
        free_cancel_hours=48,
        late_cancel_fee_percent=Decimal("50"),
        hourly_price=Decimal("300"),
        opening_hours={
            d: [["00:00", "24:00"]]
            for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        },
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    late = api.book(space.id, now + timedelta(hours=30), now + timedelta(hours=32)).json
    early = api.book(space.id, now + timedelta(days=5), now + timedelta(days=5, hours=2)).json
    cancelled_late = api.act(late, "cancel", reason="Speaker ill").json
    assert cancelled_late["status"] == "cancelled"
    assert cancelled_late["cancellation_fee"] == {"amount": "300.00", "currency": "CNY"}
    assert api.act(early, "cancel").json["cancellation_fee"]["amount"] == "0.00"
    assert outbox(db)[-2]["data"]["cancellation_fee"] == "300.00"


def test_check_in_window_and_completion(api, db):
    now = datetime.now(UTC).replace(microsecond=0)
    space = SpaceFactory(check_in_opens_minutes=15, check_in_grace_minutes=15)
    soon = ReservationFactory(space=space, start=now + timedelta(minutes=5))
    later = ReservationFactory(space=space, start=now + timedelta(hours=3))
    response = api.post(f"/reservations/{later.id}/check-in", None, **{"If-Match": '"1"'})
    assert code(response) == "rule/check-in-window"
    checked_in = api.post(f"/reservations/{soon.id}/check-in", None, user="bob", **{"If-Match": '"1"'})
    assert checked_in.status_code == 200
    assert checked_in.json["status"] == "checked_in"
    assert checked_in.json["check_in"]["checked_in_at"]
    done = api.act(checked_in.json, "complete", user="bob")
    assert done.json["status"] == "completed"
    assert [e["type"] for e in outbox(db)][-2:] == ["booking.reservation.checked_in", "booking.reservation.completed"]


def test_reschedule_moves_and_reprices_and_tells_where_from(api, db, slot):
    space = SpaceFactory(hourly_price=Decimal("100"))
    other = SpaceFactory(hourly_price=Decimal("400"))
    reservation = api.book(space.id, *slot(3, "10:00", "11:00")).json
    start, end = slot(6, "14:00", "16:00")
    moved = api.post(
        f"/reservations/{reservation['id']}/reschedule",
        {"start": start.isoformat(), "end": end.isoformat(), "space_id": other.id, "reason": "Bigger"},
        **{"If-Match": f'"{reservation["version"]}"'},
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["space"]["id"] == other.id
    assert moved.json["price"]["amount"] == "800.00"
    event = outbox(db)[-1]
    assert event["type"] == "booking.reservation.rescheduled"
    assert event["data"]["previous_space_id"] == space.id
    assert event["data"]["previous_starts_at"].endswith("Z")
    # The old slot is free again; the new one is taken.
    assert api.book(space.id, *slot(3, "10:00", "11:00"), user="carol").status_code == 201
    assert code(api.book(other.id, start, end, user="carol")) == "rule/no-double-booking"


def test_visitors_can_be_replaced(api, db, slot):
    reservation = api.book(SpaceFactory().id, *slot()).json
    response = api.put(
        f"/reservations/{reservation['id']}/visitors",
        {"visitors": [{"name": "Li Ming", "company": "West China Hospital", "car_plate": "川A88888"}]},
        **{"If-Match": f'"{reservation["version"]}"'},
    )
    assert response.status_code == 200
    assert response.json["visitors"][0]["car_plate"] == "川A88888"
    assert response.json["version"] == reservation["version"] + 1


class TestPermissions:
    def test_another_tenant_never_reads_a_reservation(self, api, db, slot):
        mine = api.book(SpaceFactory().id, *slot()).json
        for path in (f"/reservations/{mine['id']}", f"/reservations/{mine['id']}/history"):
            assert api.get(path, user="carol").status_code == 404
            assert api.get(path, user="dave").status_code == 404
            assert api.get(path, user="bob").status_code == 200  # same organisation
            assert api.get(path, user="desk").status_code == 200
        for action in ("cancel", "check-in", "reschedule"):
            body = {"start": slot()[0].isoformat(), "end": slot()[1].isoformat()} if action == "reschedule" else {}
            response = api.post(f"/reservations/{mine['id']}/{action}", body, user="carol", **{"If-Match": '"1"'})
            assert response.status_code == 404, action
        # A role that can never approve is refused before anything is read: the same 403 whether
        # the reservation exists or not, so it tells nothing either.
        approve = api.post(f"/reservations/{mine['id']}/approve", {}, user="carol", **{"If-Match": '"1"'})
        nothing = api.post(f"/reservations/{uuid.uuid4()}/approve", {}, user="carol", **{"If-Match": '"1"'})
        assert (approve.status_code, approve.json["detail"]) == (nothing.status_code, nothing.json["detail"])
        assert approve.status_code == 403
        visitors = api.put(f"/reservations/{mine['id']}/visitors", {"visitors": []}, user="carol", **{"If-Match": "*"})
        assert visitors.status_code == 404
        assert "Team meeting" not in api.get("/reservations?scope=organisation", user="carol").get_data(as_text=True)
        assert api.get(f"/quotas/usage?organisation_id={ORG_A}", user="carol").status_code == 403

    def test_members_cancel_only_their_own_admins_their_organisations(self, api, db, slot):
        reservation = api.book(SpaceFactory().id, *slot(), user="bob").json
        alices = api.book(SpaceFactory().id, *slot()).json
        assert api.act(alices, "cancel", user="bob").status_code == 403
        assert api.act(reservation, "cancel", user="alice").status_code == 200  # tenant admin

    def test_list_scopes(self, api, db, slot):
        space = SpaceFactory()
        api.book(space.id, *slot(3, "09:00", "10:00"), user="alice")
        api.book(space.id, *slot(3, "10:00", "11:00"), user="bob")
        api.book(space.id, *slot(3, "11:00", "12:00"), user="carol")
        assert api.get("/reservations", user="bob").json["total"] == 1
        assert api.get("/reservations?scope=organisation", user="bob").json["total"] == 2
        assert api.get("/reservations?scope=all", user="bob").status_code == 403
        assert api.get("/reservations", user="desk").json["total"] == 3
        page = api.get("/reservations?scope=all&page_size=2&status=confirmed", user="desk").json
        assert (page["total"], len(page["items"])) == (3, 2)
        assert api.get(f"/reservations?scope=all&organisation_id={ORG_A}", user="desk").json["total"] == 2

    def test_partners_and_anonymous_callers_do_not_book(self, api, db, slot):
        space = SpaceFactory()
        assert api.book(space.id, *slot(), user="bank").status_code == 403
        assert api.get("/reservations", user=None).status_code == 401

    def test_tenants_book_only_for_themselves_staff_for_anyone(self, api, db, slot):
        space = SpaceFactory()
        from tests.booking.conftest import ORG_B

        assert api.book(space.id, *slot(3, "09:00", "10:00"), organisation_id=ORG_B).status_code == 403
        on_behalf = api.book(space.id, *slot(3, "10:00", "11:00"), user="desk", organisation_id=ORG_B)
        assert on_behalf.status_code == 201
        assert api.get(f"/reservations/{on_behalf.json['id']}", user="carol").status_code == 200


def test_started_reservations_cannot_be_moved_or_cancelled_by_tenants(api, db):
    started = ReservationFactory(start=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
    start, end = _slot(5)
    moved = api.post(
        f"/reservations/{started.id}/reschedule",
        {"start": start.isoformat(), "end": end.isoformat()},
        **{"If-Match": '"1"'},
    )
    assert code(moved) == "rule/reschedule-after-start"
    assert code(api.post(f"/reservations/{started.id}/cancel", {}, **{"If-Match": '"1"'})) == "rule/cancel-after-start"
    cancelled = api.post(
        f"/reservations/{started.id}/cancel", {"reason": "Burst pipe"}, user="desk", **{"If-Match": '"1"'}
    )
    assert cancelled.status_code == 200
    assert cancelled.json["cancellation_fee"]["amount"] == "0.00"  # staff waive the fee


def test_a_suspended_organisation_cannot_book(api, db, slot):
    from services.booking.models import directory

    with db.unit_of_work() as uow:
        uow.session.execute(directory.update().where(directory.c.id == ORG_A).values(status="suspended", version=2))
        uow.commit()
    assert code(api.book(SpaceFactory().id, *slot())) == "rule/organisation-suspended"
