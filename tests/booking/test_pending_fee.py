"""A request that was never approved costs nothing when it is withdrawn, rejected or expires;
only a confirmed reservation can be charged a cancellation fee (issue 7's first bug: a tenant
withdrawing a pending hall request 11 days ahead paid 20,160.00 CNY)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.booking.handlers import expire_unapproved
from tests.booking.conftest import at, outbox, park_day
from tests.booking.factories import ALL_DAY, ReservationFactory, SpaceFactory


def exhibition_hall():
    """The seed's shared exhibition hall: always approved, free to cancel until 14 days before,
    30 % after, 1,200.00 CNY an hour."""
    return SpaceFactory(
        kind="exhibition_hall",
        capacity=500,
        layouts={"booths": 40, "cocktail": 500},
        opening_hours=dict(ALL_DAY),
        slot_minutes=60,
        min_duration_minutes=240,
        max_duration_minutes=7 * 24 * 60,
        lead_time_minutes=7 * 24 * 60,
        horizon_days=365,
        approval_mode="always",
        hourly_price=Decimal("1200.00"),
        free_cancel_hours=14 * 24,
        late_cancel_fee_percent=Decimal("30"),
    )


def request_hall(api, hall, days_ahead=11, user="alice"):
    day = park_day(days_ahead)
    start, end = at(day, "08:00"), at(day, "08:00") + timedelta(hours=56)  # 56 h: 67,200.00 CNY
    response = api.book(hall.id, start, end, user=user, attendees=300, layout="cocktail", title="Biotech expo")
    assert response.status_code == 201, response.json
    assert response.json["status"] == "pending_approval"
    assert response.json["price"]["amount"] == "67200.00"
    return response.json


def test_withdrawing_a_pending_request_inside_the_late_window_costs_nothing(api, db):
    pending = request_hall(api, exhibition_hall())
    withdrawn = api.act(pending, "cancel", reason="Plans changed")
    assert withdrawn.status_code == 200, withdrawn.json
    assert withdrawn.json["status"] == "cancelled"
    assert withdrawn.json["cancellation_fee"] == {"amount": "0.00", "currency": "CNY"}
    event = outbox(db)[-1]
    assert event["type"] == "booking.reservation.cancelled"
    assert event["data"]["cancellation_fee"] == "0.00"
    history = api.get(f"/reservations/{pending['id']}/history").json["items"]
    assert history[-1]["details"]["cancellation_fee"] == "0.00"


def test_a_member_withdrawing_their_own_pending_request_pays_nothing_either(api, db):
    pending = request_hall(api, exhibition_hall(), user="bob")
    assert api.act(pending, "cancel", user="bob").json["cancellation_fee"]["amount"] == "0.00"


def test_the_same_reservation_once_approved_is_charged_its_late_fee(api, db):
    pending = request_hall(api, exhibition_hall())
    approved = api.act(pending, "approve", user="desk").json
    assert approved["status"] == "confirmed"
    cancelled = api.act(approved, "cancel").json
    assert cancelled["cancellation_fee"] == {"amount": "20160.00", "currency": "CNY"}  # 30 % of 67,200.00


def test_a_confirmed_reservation_cancelled_early_is_still_free(api, db):
    pending = request_hall(api, exhibition_hall(), days_ahead=20)
    approved = api.act(pending, "approve", user="desk").json
    assert api.act(approved, "cancel").json["cancellation_fee"]["amount"] == "0.00"


def test_rejected_or_expired_requests_cost_nothing(api, db):
    hall = exhibition_hall()
    rejected = api.act(request_hall(api, hall), "reject", user="desk", reason="The hall is closed that week.").json
    assert (rejected["status"], rejected["cancellation_fee"]) == ("rejected", None)  # no fee at all
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    stale = ReservationFactory(
        space=hall, start=began, minutes=240, status="pending_approval", price=Decimal("4800.00")
    )
    with db.unit_of_work() as uow:
        expire_unapproved(uow=uow)
        uow.commit()
    expired = api.get(f"/reservations/{stale.id}").json
    assert (expired["status"], expired["cancellation_fee"]) == ("rejected", None)
