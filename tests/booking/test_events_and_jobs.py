"""The worker's side: scheduled no-show release, completion and expiry; the room hold asked for
by another service, answered with events carrying its correlation id; event contracts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.booking.handlers import complete_ended, expire_unapproved, release_no_shows
from services.booking.worker import participant
from shared.clock import PARK_TZ
from shared.events import ContractViolation, Event
from tests.booking.conftest import ORG_A, at, outbox, park_day
from tests.booking.factories import ReservationFactory, SpaceFactory


def run(db, job, **kwargs):
    with db.unit_of_work() as uow:
        done = job(uow=uow, **kwargs)
        uow.commit()
    return done


def test_no_shows_are_released_after_the_check_in_window(api, db):
    now = datetime.now(UTC).replace(microsecond=0)
    space = SpaceFactory(check_in_grace_minutes=15)
    gone = ReservationFactory(space=space, start=now - timedelta(minutes=20), minutes=60)
    still_open = ReservationFactory(
        space=space, start=now - timedelta(minutes=10), minutes=60, org_id=str(uuid.uuid4())
    )
    assert run(db, release_no_shows) == 1
    assert api.get(f"/reservations/{gone.id}", user="desk").json["status"] == "no_show"
    assert api.get(f"/reservations/{still_open.id}", user="desk").json["status"] == "confirmed"
    [event] = outbox(db)
    assert event["type"] == "booking.reservation.no_show"
    history = api.get(f"/reservations/{gone.id}/history").json["items"]
    assert history[-1]["actor"] == "system:booking"
    # The released space is free again: the timeline no longer shows it busy. (The day of the one
    # still open: around park midnight the two start on different days.)
    day = still_open.starts_at.astimezone(PARK_TZ).date().isoformat()
    busy = api.get(f"/spaces/{space.id}/timeline?date={day}", user="desk").json["busy"]
    assert [b["reservation_id"] for b in busy] == [still_open.id]


def test_completion_and_expiry_jobs(api, db):
    now = datetime.now(UTC).replace(microsecond=0)
    checked_in = ReservationFactory(start=now - timedelta(hours=2), minutes=60, status="checked_in")
    waiting = ReservationFactory(start=now - timedelta(minutes=1), status="pending_approval")
    assert run(db, complete_ended) == 1
    assert run(db, expire_unapproved) == 1
    assert api.get(f"/reservations/{checked_in.id}").json["status"] == "completed"
    expired = api.get(f"/reservations/{waiting.id}").json
    assert (expired["status"], expired["reason"]) == ("rejected", "It was not approved before its start.")
    assert [e["type"] for e in outbox(db)] == ["booking.reservation.completed", "booking.reservation.rejected"]


def test_the_worker_runs_the_jobs(settings, db):
    names = [job.name for job in participant(settings).jobs]
    assert names == ["release-no-shows", "complete-ended", "expire-unapproved"]
    assert all(job.run() == 0 for job in participant(settings).jobs)


def hold_request(space_id=None, **overrides):
    day = park_day(5)
    data = {
        "request_id": overrides.pop("request_id", str(uuid.uuid4())),
        "requester": "consulting",
        "org_id": ORG_A,
        "requested_by": "user:alice",
        "requested_by_name": "Alice Wang",
        "title": "Meeting with Sichuan IP Law Firm",
        "starts_at": at(day, "14:00").astimezone(UTC).isoformat(),
        "ends_at": at(day, "15:00").astimezone(UTC).isoformat(),
        "attendees": 5,
        "space_id": space_id,
        "visitors": [{"name": "Attorney Liu", "company": "Sichuan IP Law Firm", "car_plate": "川A66666"}],
        **overrides,
    }
    return Event(
        type="booking.room_hold.requested",
        source="/parkhub/consulting",
        data=data,
        correlationid="req-consulting-42",
        orgid=ORG_A,
    )


def deliver(settings, event):
    return participant(settings).inbox.deliver(event.to_dict())


def test_a_room_hold_is_placed_and_answered_with_the_correlation_id(settings, db, api):
    small = SpaceFactory(capacity=6, layouts={"boardroom": 6})
    SpaceFactory(capacity=40)
    event = hold_request()
    assert deliver(settings, event).value == "handled"
    assert deliver(settings, event).value == "duplicate"
    [answer] = outbox(db)
    assert answer["type"] == "booking.reservation.confirmed"
    assert answer["correlationid"] == "req-consulting-42"
    assert answer["causationid"] == event.id
    assert answer["data"]["request_id"] == event.data["request_id"]
    assert answer["data"]["space_id"] == small.id  # the smallest room that fits
    assert answer["data"]["visitors"][0]["name"] == "Attorney Liu"
    # The same request as another event is answered once only.
    again = hold_request(request_id=event.data["request_id"])
    assert deliver(settings, again).value == "handled"
    assert len(outbox(db)) == 1


def test_a_room_hold_that_cannot_be_placed_is_rejected(settings, db):
    space = SpaceFactory(capacity=6)
    first = hold_request(space.id)
    deliver(settings, first)
    clash = hold_request(space.id)
    deliver(settings, clash)
    answer = outbox(db)[-1]
    assert answer["type"] == "booking.reservation.rejected"
    assert answer["correlationid"] == "req-consulting-42"
    data = answer["data"]
    assert (data["reservation_id"], data["request_id"], data["rule"]) == (
        None,
        clash.data["request_id"],
        "rule/no-double-booking",
    )
    deliver(settings, hold_request(attendees=500))
    assert outbox(db)[-1]["data"]["rule"] == "rule/no-space-fits"


def test_contracts_refuse_a_bad_payload(db):
    with db.unit_of_work() as uow, pytest.raises(ContractViolation):
        uow.publish("booking.reservation.confirmed", {"reservation_id": "nope"}, subject="x", orgid=ORG_A)


def test_later_answers_to_a_room_hold_carry_the_request_correlation_id(settings, db, api):
    hall = SpaceFactory(kind="science_hall", capacity=300, layouts={"theatre": 300}, approval_mode="always")
    event = hold_request(hall.id)
    assert deliver(settings, event).value == "handled"
    [requested] = outbox(db)
    assert requested["type"] == "booking.reservation.requested"
    reservation = api.get(f"/reservations/{requested['data']['reservation_id']}", user="desk").json
    assert api.act(reservation, "approve", user="desk").status_code == 200
    approved = outbox(db)[-1]
    assert approved["type"] == "booking.reservation.confirmed"
    assert approved["correlationid"] == "req-consulting-42"
    assert approved["data"]["request_id"] == event.data["request_id"]


def test_a_refused_room_hold_sent_again_is_not_evaluated_again(settings, db, api):
    space = SpaceFactory(capacity=6)
    taken = hold_request(space.id)
    deliver(settings, taken)
    refused = hold_request(space.id)
    deliver(settings, refused)
    assert outbox(db)[-1]["type"] == "booking.reservation.rejected"
    # The slot frees up; the refused request, re-sent as another event, is still answered once.
    reservation = api.get(f"/reservations/{outbox(db)[0]['data']['reservation_id']}").json
    assert api.act(reservation, "cancel").status_code == 200
    before = len(outbox(db))
    assert deliver(settings, hold_request(space.id, request_id=refused.data["request_id"])).value == "handled"
    assert len(outbox(db)) == before
    assert api.get("/reservations?status=confirmed").json["total"] == 0
