"""``booking.room_hold.released``: the requester no longer needs a hold; booking cancels the
reservation it placed for (requester, request_id) as the system, without a fee, publishing
``booking.reservation.cancelled`` with ``request_id`` under the request's correlation id. Nothing
placed or ended: nothing; twice: once; before the request: the request is never placed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.booking.models import HoldRequest
from shared.events import Event
from tests.booking.conftest import ORG_A, outbox
from tests.booking.factories import ReservationFactory, SpaceFactory
from tests.booking.test_events_and_jobs import deliver, hold_request


def release(request_id: str, requester: str = "consulting", reason: str | None = "The case was cancelled.") -> Event:
    return Event(
        type="booking.room_hold.released",
        source="/parkhub/consulting",
        data={"request_id": request_id, "requester": requester, "reason": reason},
        correlationid="req-consulting-43",
        orgid=ORG_A,
    )


def test_a_released_hold_is_cancelled_without_a_fee_once(settings, db, api):
    SpaceFactory(capacity=6, free_cancel_hours=24 * 30)  # a tenant cancelling now would pay a fee
    hold = hold_request()
    deliver(settings, hold)
    [placed] = outbox(db)
    reservation_id = placed["data"]["reservation_id"]
    assert deliver(settings, release(hold.data["request_id"])).value == "handled"
    cancelled = outbox(db)[-1]
    assert cancelled["type"] == "booking.reservation.cancelled"
    assert cancelled["data"]["request_id"] == hold.data["request_id"]
    assert cancelled["data"]["cancellation_fee"] == "0.00"
    assert cancelled["data"]["reason"] == "The case was cancelled."
    assert cancelled["correlationid"] == "req-consulting-42"  # the hold's saga, not the release's
    shown = api.get(f"/reservations/{reservation_id}").json
    assert (shown["status"], shown["cancellation_fee"]["amount"]) == ("cancelled", "0.00")
    assert api.get(f"/reservations/{reservation_id}/history").json["items"][-1]["actor"] == "system:booking"
    # Twice (as another event): once.
    before = len(outbox(db))
    assert deliver(settings, release(hold.data["request_id"])).value == "handled"
    assert len(outbox(db)) == before


def test_a_release_of_another_requester_or_an_unknown_request_does_nothing(settings, db, api):
    SpaceFactory(capacity=6)
    hold = hold_request()
    deliver(settings, hold)
    before = len(outbox(db))
    deliver(settings, release(hold.data["request_id"], requester="finance"))
    deliver(settings, release(str(uuid.uuid4())))
    assert len(outbox(db)) == before
    reservation_id = outbox(db)[0]["data"]["reservation_id"]
    assert api.get(f"/reservations/{reservation_id}").json["status"] == "confirmed"


def test_a_refused_hold_released_publishes_nothing(settings, db):
    space = SpaceFactory(capacity=6)
    deliver(settings, hold_request(space.id))
    refused = hold_request(space.id)
    deliver(settings, refused)
    before = len(outbox(db))
    deliver(settings, release(refused.data["request_id"]))
    assert len(outbox(db)) == before
    assert outbox(db)[0]["type"] == "booking.reservation.confirmed"  # the other hold stands


def test_a_release_before_its_request_keeps_it_from_being_placed(settings, db):
    SpaceFactory(capacity=6)
    hold = hold_request()
    deliver(settings, release(hold.data["request_id"]))
    deliver(settings, hold)
    assert outbox(db) == []


def test_an_ended_reservation_is_not_touched(settings, db, api):
    space = SpaceFactory(capacity=6)
    request_id = str(uuid.uuid4())
    ended = ReservationFactory(
        space=space,
        start=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3),
        request_id=request_id,
        requester="consulting",
    )
    with db.unit_of_work() as uow:
        uow.session.add(
            HoldRequest(
                requester="consulting",
                request_id=request_id,
                outcome="confirmed",
                reservation_id=ended.id,
                rule=None,
                at=datetime.now(UTC),
            )
        )
        uow.commit()
    deliver(settings, release(request_id))
    assert outbox(db) == []
    assert api.get(f"/reservations/{ended.id}", user="desk").json["status"] == "confirmed"
