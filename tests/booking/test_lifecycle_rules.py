"""The lifecycle holds through reschedules, late approvals and late cancellations; inactive
spaces are hidden from tenants; the busy interval of a refusal is in park time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.booking.conftest import outbox
from tests.booking.factories import ReservationFactory, SpaceFactory
from tests.booking.test_reservations import code


def hall(**overrides):
    return SpaceFactory(
        kind="science_hall", capacity=1000, layouts={"theatre": 1000}, approval_mode="always", **overrides
    )


def reschedule(api, reservation, start, end, user="alice", **body):
    return api.post(
        f"/reservations/{reservation['id']}/reschedule",
        {"start": start.isoformat(), "end": end.isoformat(), **body},
        user=user,
        **{"If-Match": f'"{reservation["version"]}"'},
    )


def test_a_tenant_cannot_move_a_confirmed_reservation_where_approval_is_needed(api, db, slot):
    room = SpaceFactory()
    confirmed = api.book(room.id, *slot(3)).json
    assert confirmed["status"] == "confirmed"
    refused = reschedule(api, confirmed, *slot(4), space_id=hall().id)
    assert refused.status_code == 422
    assert code(refused) == "rule/reschedule-needs-approval"
    again = api.get(f"/reservations/{confirmed['id']}").json
    assert again["status"] == "confirmed" and again["space"]["id"] == room.id
    assert [e["type"] for e in outbox(db)] == ["booking.reservation.confirmed"]


def test_a_reschedule_keeps_a_pending_reservation_pending_even_by_desk_staff(api, db, slot):
    pending = api.book(hall().id, *slot(5), attendees=300).json
    assert pending["status"] == "pending_approval"
    moved = reschedule(api, pending, *slot(6), user="desk")
    assert moved.status_code == 200, moved.json
    assert moved.json["status"] == "pending_approval"
    room = SpaceFactory(capacity=400, layouts={"theatre": 400})
    moved_again = reschedule(api, moved.json, *slot(6), space_id=room.id)  # a room needing no approval
    assert moved_again.json["status"] == "pending_approval"
    types = [e["type"] for e in outbox(db)]
    assert types == ["booking.reservation.requested"] + ["booking.reservation.rescheduled"] * 2
    history = api.get(f"/reservations/{pending['id']}/history").json["items"]
    assert [(h["from_status"], h["to_status"]) for h in history[1:]] == [("pending_approval", "pending_approval")] * 2


def test_approving_after_the_start_is_too_late(api, db):
    started = ReservationFactory(
        status="pending_approval", start=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    )
    late = api.post(f"/reservations/{started.id}/approve", {}, user="desk", **{"If-Match": f'"{started.version}"'})
    assert late.status_code == 422 and code(late) == "rule/too-late"
    assert api.get(f"/reservations/{started.id}", user="desk").json["status"] == "pending_approval"


def test_a_reservation_that_has_ended_cannot_be_cancelled(api, db):
    ended = ReservationFactory(start=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3), minutes=60)
    for user in ("desk", "alice"):
        refused = api.post(f"/reservations/{ended.id}/cancel", {}, user=user, **{"If-Match": f'"{ended.version}"'})
        assert refused.status_code == 422 and code(refused) == "rule/cancel-after-end"
    assert api.get(f"/reservations/{ended.id}").json["status"] == "confirmed"


def test_the_busy_interval_of_a_double_booking_is_in_park_time(api, db, slot):
    room = SpaceFactory()
    api.book(room.id, *slot(3, "10:00", "11:00"), user="carol")
    clash = api.book(room.id, *slot(3, "10:30", "11:30"))
    assert clash.status_code == 409
    start, end = slot(3, "10:00", "11:00")
    assert clash.json["busy"] == {"start": start.isoformat(), "end": end.isoformat()}


def test_tenants_do_not_see_inactive_spaces(api, db):
    closed = SpaceFactory(active=False)
    assert api.get(f"/spaces/{closed.id}").status_code == 404
    assert api.get(f"/spaces/{closed.id}/timeline").status_code == 404
    assert api.get(f"/spaces/{closed.id}", user="desk").status_code == 200
    assert api.get(f"/spaces/{closed.id}/timeline", user="desk").status_code == 200


def test_utilisation_leaves_inactive_spaces_out(api, db):
    open_room = SpaceFactory()
    closed = SpaceFactory(active=False)
    day = datetime.now(UTC).date()
    report = api.get(f"/reports/utilisation?from={day}&to={day + timedelta(days=1)}", user="admin").json
    ids = [row["space_id"] for row in report["spaces"]]
    assert open_room.id in ids and closed.id not in ids
