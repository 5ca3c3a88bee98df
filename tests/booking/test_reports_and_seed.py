"""Utilisation reports (JSON and CSV, park admin only) and the park's demo spaces."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from services.booking.seed import SPACES, seed
from tests.booking.conftest import at, park_day
from tests.booking.factories import ClosureFactory, ReservationFactory, SpaceFactory


def test_utilisation_per_space_and_kind(api, db):
    room = SpaceFactory(code="room-a")  # open 08:00-22:00: 14 h a day
    court = SpaceFactory(code="court-a", kind="badminton_court", capacity=4, layouts={"court": 4})
    day = park_day(2)
    ClosureFactory(space_id=court.id, starts_at=at(day, "08:00"), ends_at=at(day, "15:00"))
    ReservationFactory(space=room, start=at(day, "09:00"), minutes=180, status="completed")
    ReservationFactory(space=room, start=at(day, "13:00"), minutes=240, status="no_show")
    ReservationFactory(space=room, start=at(day, "18:00"), minutes=60, status="cancelled")
    ReservationFactory(space=court, start=at(day, "16:00"), minutes=120, status="confirmed")
    query = f"from={day.isoformat()}&to={day.isoformat()}"
    assert api.get(f"/reports/utilisation?{query}", user="desk").status_code == 403
    report = api.get(f"/reports/utilisation?{query}", user="admin").json
    rows = {r["code"]: r for r in report["spaces"]}
    assert (rows["room-a"]["open_hours"], rows["room-a"]["booked_hours"]) == (14, 7)
    assert rows["room-a"]["utilisation"] == 0.5
    assert rows["room-a"]["no_show_rate"] == 0.5
    assert (rows["court-a"]["open_hours"], rows["court-a"]["booked_hours"]) == (7, 2)
    kinds = {k["kind"]: k for k in report["kinds"]}
    assert kinds["conference_room"]["reservations"] == 2
    response = api.get(f"/reports/utilisation.csv?{query}", user="admin")
    assert response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    levels = {(r["level"], r.get("code") or r["kind"]) for r in table}
    assert levels >= {("space", "room-a"), ("kind", "conference_room")}
    too_long = f"from={day.isoformat()}&to={(day + timedelta(days=400)).isoformat()}"
    assert api.get(f"/reports/utilisation?{too_long}", user="admin").json["type"].endswith("rule/report-period")


def test_the_parks_spaces_are_seeded_once(settings, api, db):
    first = seed(settings)
    assert any("千人科学会堂" in line for line in first)
    assert seed(settings) == []
    spaces = api.get("/spaces?page_size=100", user="bob").json["items"]
    assert len(spaces) == len(SPACES)
    kinds = {s["kind"] for s in spaces}
    assert kinds == {
        "conference_room",
        "science_hall",
        "scientists_club",
        "exhibition_hall",
        "release_square",
        "basketball_court",
        "badminton_court",
    }
    hall = next(s for s in spaces if s["kind"] == "science_hall")
    assert (hall["capacity"], hall["approval"]["mode"]) == (1000, "always")
    exhibition = next(s for s in spaces if s["kind"] == "exhibition_hall")
    # 40 standard booths to let, in a booth layout that holds the hall's 500 visitors.
    assert (exhibition["booths"], exhibition["layouts"]["booths"]) == (40, 500)
    # A multi-day exhibition fits the exhibition hall's rules.
    start = at(park_day(20), "00:00")
    booked = api.book(
        exhibition["id"], start, start + timedelta(days=3), title="Cell therapy expo", attendees=300, layout="booths"
    )
    assert booked.status_code == 201, booked.json
    assert booked.json["status"] == "pending_approval"
