"""Availability search: fitting spaces with their free intervals; others only as busy time."""

from __future__ import annotations

from tests.booking.conftest import at, park_day
from tests.booking.factories import ClosureFactory, SpaceFactory


def test_search_finds_fitting_spaces_with_free_intervals(api, db):
    small = SpaceFactory(capacity=8, layouts={"boardroom": 8}, equipment=["whiteboard"])
    big = SpaceFactory(capacity=60, layouts={"theatre": 60, "classroom": 30}, equipment=["projector", "led_wall"])
    SpaceFactory(kind="basketball_court", capacity=20, layouts={"court": 20}, equipment=["scoreboard"])
    day = park_day(4)
    secret = "Tianfu Genomics acquisition board"
    booked = api.book(big.id, at(day, "10:00"), at(day, "12:00"), user="carol", attendees=20, title=secret)
    assert booked.status_code == 201
    window = f"start={at(day, '09:00').isoformat()}&end={at(day, '13:00').isoformat()}".replace("+", "%2B")
    everything = api.get(f"/availability?{window}").json
    assert everything["total"] == 3
    found = api.get(f"/availability?{window}&attendees=25&equipment=projector").json
    assert [item["space"]["id"] for item in found["items"]] == [big.id]
    assert found["items"][0]["free"] == [
        {"start": at(day, "09:00").isoformat(), "end": at(day, "10:00").isoformat()},
        {"start": at(day, "12:00").isoformat(), "end": at(day, "13:00").isoformat()},
    ]
    # Another tenant's reservation is only the gap in the free intervals: no title, no id, no owner.
    [item] = found["items"]
    assert set(item) == {"space", "free", "free_minutes", "needs_approval", "hourly_price"}
    assert all(set(free) == {"start", "end"} for free in item["free"])
    body = api.get(f"/availability?{window}&attendees=25&equipment=projector").get_data(as_text=True)
    assert secret not in body and booked.json["id"] not in body
    assert api.get(f"/availability?{window}&attendees=25&layout=classroom").json["total"] == 1
    assert api.get(f"/availability?{window}&attendees=31&layout=classroom").json["total"] == 0
    assert api.get(f"/availability?{window}&kind=conference_room&duration_minutes=120").json["total"] == 1
    assert small.id in str(api.get(f"/availability?{window}&kind=conference_room&duration_minutes=120").json)


def test_closures_and_windows(api, db):
    space = SpaceFactory()
    day = park_day(4)
    ClosureFactory(space_id=space.id, starts_at=at(day, "00:00"), ends_at=at(day, "12:00"))
    window = f"start={at(day, '00:00').isoformat()}&end={at(day, '23:59').isoformat()}".replace("+", "%2B")
    [item] = api.get(f"/availability?{window}").json["items"]
    assert item["free"] == [{"start": at(day, "12:00").isoformat(), "end": at(day, "22:00").isoformat()}]
    too_long = f"start={at(day, '00:00').isoformat()}&end={at(park_day(40), '00:00').isoformat()}".replace("+", "%2B")
    response = api.get(f"/availability?{too_long}")
    assert response.status_code == 422 and response.json["type"].endswith("rule/search-window")
    naive = api.get("/availability?start=2026-12-01T09:00:00&end=2026-12-01T10:00:00")
    assert naive.status_code == 422 and "start" in naive.json["errors"]


def test_a_space_is_parsed_once_per_version_not_per_search(api, db, monkeypatch):
    import services.booking.models as models

    parsed: list[object] = []
    parse = models.parse_opening_hours

    def counting(hours):
        parsed.append(hours)
        return parse(hours)

    monkeypatch.setattr(models, "parse_opening_hours", counting)
    rooms = [SpaceFactory(code=f"ROOM-{n}") for n in range(3)]
    day = park_day(4)
    window = f"start={at(day, '09:00').isoformat()}&end={at(day, '13:00').isoformat()}".replace("+", "%2B")
    first = api.get(f"/availability?{window}")
    assert first.json["total"] == 3
    parsed.clear()
    for _ in range(3):
        assert api.get(f"/availability?{window}").json == first.json
    assert parsed == []  # nothing decoded again for versions already seen

    space = api.get(f"/spaces/{rooms[0].id}", user="admin")
    changed = api.patch(
        f"/spaces/{rooms[0].id}",
        {"opening_hours": {"monday": [{"opens": "10:00", "closes": "12:00"}]}},
        **{"If-Match": space.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.json
    parsed.clear()
    after = api.get(f"/availability?{window}").json
    assert len(parsed) == 1  # the changed space, at its new version, once
    assert after["total"] in (2, 3)
