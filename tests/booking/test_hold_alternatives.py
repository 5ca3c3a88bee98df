"""A room hold booking cannot place is refused with the nearest free slots (``alternatives``):
another fitting space at the asked time first, then the nearest free times; none when no space
of the kind fits at all. Each alternative passes booking's own rules (it can be booked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.booking.handlers.holds import ALTERNATIVES
from tests.booking.conftest import at, outbox, park_day
from tests.booking.factories import ClosureFactory, ReservationFactory, SpaceFactory
from tests.booking.test_events_and_jobs import deliver, hold_request


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def rejection(db):
    [answer] = [e for e in outbox(db) if e["type"] == "booking.reservation.rejected"][-1:]
    return answer["data"]


def test_another_fitting_space_at_the_asked_time_comes_first(settings, db):
    asked = SpaceFactory(capacity=6)
    other = SpaceFactory(capacity=8, name="Meeting Room Other", name_zh="另一会议室")
    day = park_day(5)
    ReservationFactory(space=asked, start=at(day, "14:00").astimezone(UTC), minutes=60)
    deliver(settings, hold_request(asked.id))
    data = rejection(db)
    assert data["rule"] == "rule/no-double-booking"
    first = data["alternatives"][0]
    assert (first["space_id"], first["space_name"], first["space_name_zh"]) == (other.id, other.name, "另一会议室")
    assert moment(first["starts_at"]) == at(day, "14:00").astimezone(UTC)
    assert moment(first["ends_at"]) == at(day, "15:00").astimezone(UTC)
    assert len(data["alternatives"]) == ALTERNATIVES


def test_when_every_room_is_taken_the_nearest_free_times_are_offered(settings, db):
    room = SpaceFactory(capacity=6)
    day = park_day(5)
    # Taken from 13:00 to 16:00: the nearest free hours are 16:00 (after) and 12:00 (before): at
    # the same distance, the later first.
    ReservationFactory(space=room, start=at(day, "13:00").astimezone(UTC), minutes=180)
    deliver(settings, hold_request(room.id))
    data = rejection(db)
    starts = [moment(a["starts_at"]) for a in data["alternatives"]]
    assert starts == [at(day, t).astimezone(UTC) for t in ("16:00", "12:00", "16:30")]
    assert {a["space_id"] for a in data["alternatives"]} == {room.id}
    # Each is free: another hold there is placed.
    for alternative in data["alternatives"][:1]:
        deliver(
            settings,
            hold_request(room.id, starts_at=alternative["starts_at"], ends_at=alternative["ends_at"]),
        )
        assert outbox(db)[-1]["type"] == "booking.reservation.confirmed"


def test_closures_and_closing_time_are_respected(settings, db):
    room = SpaceFactory(capacity=6)
    day = park_day(5)
    ReservationFactory(space=room, start=at(day, "08:00").astimezone(UTC), minutes=14 * 60)  # the whole day
    ClosureFactory(
        space_id=room.id,
        starts_at=at(day + timedelta(days=1), "00:00").astimezone(UTC),
        ends_at=at(day + timedelta(days=1), "13:00").astimezone(UTC),
    )
    deliver(settings, hold_request(room.id))
    starts = [moment(a["starts_at"]) for a in rejection(db)["alternatives"]]
    # Not that evening after 22:00 (closing time), nor the evening before (another day), nor the
    # next morning (closed): the next day from 13:00.
    assert starts[0] == at(day + timedelta(days=1), "13:00").astimezone(UTC)
    assert all(s >= at(day + timedelta(days=1), "13:00").astimezone(UTC) for s in starts)


def test_no_alternatives_when_no_space_fits_at_all(settings, db):
    SpaceFactory(capacity=6)
    deliver(settings, hold_request(attendees=500))
    data = rejection(db)
    assert (data["rule"], data["alternatives"]) == ("rule/no-space-fits", [])
