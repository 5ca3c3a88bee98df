"""``needs_approval`` in the availability search answers what would happen if the caller booked:
desk staff's and park admin's bookings are confirmed at once, so never for them; tenants' wait
when the space's approval rule says so. The answer agrees with what booking then does."""

from __future__ import annotations

import pytest

from tests.booking.conftest import at, park_day
from tests.booking.factories import SpaceFactory

TENANTS = ("alice", "bob", "carol", "dave")
STAFF = ("desk", "admin")


def _search(api, user, day, **query):
    window = f"start={at(day, '09:00').isoformat()}&end={at(day, '18:00').isoformat()}".replace("+", "%2B")
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    response = api.get(f"/availability?{window}{extra}", user=user)
    assert response.status_code == 200, response.json
    return {item["space"]["id"]: item["needs_approval"] for item in response.json["items"]}


@pytest.fixture
def spaces(db):
    hall = SpaceFactory(
        kind="science_hall", capacity=1000, layouts={"theatre": 1000}, approval_mode="always", lead_time_minutes=0
    )
    club = SpaceFactory(
        kind="scientists_club",
        capacity=80,
        layouts={"banquet": 80},
        approval_mode="attendees_above",
        approval_threshold=30,
        lead_time_minutes=0,
    )
    room = SpaceFactory(capacity=20, lead_time_minutes=0)
    return hall, club, room


@pytest.mark.parametrize("user", TENANTS)
def test_a_tenant_is_told_a_hall_waits_for_approval(api, spaces, user):
    hall, club, room = spaces
    day = park_day(3)
    assert _search(api, user, day, attendees=10) == {room.id: False, club.id: False, hall.id: True}
    assert _search(api, user, day, attendees=40) == {club.id: True, hall.id: True}


@pytest.mark.parametrize("user", STAFF)
def test_desk_staff_and_park_admin_are_told_it_is_confirmed_at_once(api, spaces, user):
    hall, club, room = spaces
    day = park_day(3)
    assert _search(api, user, day, attendees=10) == {room.id: False, club.id: False, hall.id: False}
    assert _search(api, user, day, attendees=40) == {club.id: False, hall.id: False}


def test_a_partner_reads_availability_as_a_tenant_would(api, spaces):
    """Partners do not book; the answer is the space's rule, as for anyone who is not staff."""
    hall, _club, _room = spaces
    assert _search(api, "bank", park_day(3), attendees=10)[hall.id] is True


@pytest.mark.parametrize(("user", "status"), [("alice", "pending_approval"), ("desk", "confirmed")])
def test_what_the_search_says_is_what_booking_does(api, spaces, user, status):
    hall, _club, _room = spaces
    day = park_day(3)
    said = _search(api, user, day, attendees=200)[hall.id]
    booked = api.book(hall.id, at(day, "10:00"), at(day, "12:00"), user=user, attendees=200, layout="theatre")
    assert booked.status_code == 201, booked.json
    assert booked.json["status"] == status
    assert said is (status == "pending_approval")
