"""The audit trails answer every time in park time, their ``details`` too: a reservation's
history (requested at, moved from and to) and a space's (closures added and lifted), rows
written before this change included (they hold UTC, as every row still does)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.booking.models import Transition
from tests.booking.conftest import at, park_day
from tests.booking.factories import SpaceFactory, current_session


def test_a_reservation_history_gives_its_times_in_park_time(api, db):
    space = SpaceFactory()
    day, later = park_day(3), park_day(4)
    booked = api.book(space.id, at(day, "10:00"), at(day, "11:00")).json
    moved = api.post(
        f"/reservations/{booked['id']}/reschedule",
        {"start": at(later, "14:00").isoformat(), "end": at(later, "15:30").isoformat()},
        **{"If-Match": f'"{booked["version"]}"'},
    )
    assert moved.status_code == 200, moved.json
    current_session().add(  # a line as written before, times in UTC with a "Z"
        Transition(
            reservation_id=booked["id"],
            action="visitors",
            from_status="confirmed",
            to_status="confirmed",
            actor="user:alice",
            details={"start": "2027-01-08T02:00:00Z", "count": 2, "note": "not a time"},
            at=datetime.now(UTC),
        )
    )
    current_session().commit()

    request, reschedule, old = api.get(f"/reservations/{booked['id']}/history").json["items"]
    assert request["details"]["start"] == at(day, "10:00").isoformat()
    assert request["details"]["end"] == at(day, "11:00").isoformat()
    assert reschedule["details"]["from"]["start"] == at(day, "10:00").isoformat()
    assert reschedule["details"]["to"] == {
        "start": at(later, "14:00").isoformat(),
        "end": at(later, "15:30").isoformat(),
        "space_id": space.id,
    }
    assert old["details"] == {"start": "2027-01-08T10:00:00+08:00", "count": 2, "note": "not a time"}
    assert request["at"].endswith("+08:00")


def test_a_space_history_gives_closure_times_in_park_time(api, db):
    space = SpaceFactory()
    day = park_day(6)
    start, end = at(day, "08:00"), at(day, "12:00")
    closure = api.post(
        f"/spaces/{space.id}/closures",
        {"start": start.isoformat(), "end": end.isoformat(), "reason": "Works"},
        user="admin",
    ).json
    assert api.delete(f"/spaces/{space.id}/closures/{closure['id']}").status_code == 204
    added, lifted = api.get(f"/spaces/{space.id}/history", user="desk").json["items"]
    for line in (added, lifted):
        assert (line["details"]["start"], line["details"]["end"]) == (start.isoformat(), end.isoformat())
