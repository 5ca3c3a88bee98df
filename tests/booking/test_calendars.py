"""iCalendar feeds, parsed back with the icalendar library: secret URLs without a bearer
header, stable UIDs, SEQUENCE that grows, cancellations that stay as CANCELLED, rotation."""

from __future__ import annotations

from icalendar import Calendar

from tests.booking.conftest import ORG_A, ORG_B, at, outbox, park_day
from tests.booking.factories import SpaceFactory


def feed_path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def events(api, url: str) -> dict[str, object]:
    response = api.client.get(feed_path(url))  # no Authorization header at all
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_organisation_feed_follows_every_change(api, db):
    space = SpaceFactory(name="Round-Table Room", name_zh="圆桌会议室")
    day = park_day(3)
    reservation = api.book(
        space.id,
        at(day, "10:00"),
        at(day, "11:00"),
        title="Investor call",
        visitors=[{"name": "Ms. Zhou", "company": "Tianfu Capital"}],
    ).json
    feed = api.get("/calendars/organisations/mine/feed", user="bob").json
    assert feed["owner_id"] == ORG_A
    uid = f"{reservation['id']}@parkhub.tianfu-lifescience.cn"
    event = events(api, feed["url"])[uid]
    assert str(event["SUMMARY"]) == "Investor call · Round-Table Room"
    assert event.decoded("DTSTART") == at(day, "10:00")
    assert int(event["SEQUENCE"]) == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "Ms. Zhou" in str(event["DESCRIPTION"])

    moved = api.post(
        f"/reservations/{reservation['id']}/reschedule",
        {"start": at(day, "14:00").isoformat(), "end": at(day, "15:30").isoformat()},
        **{"If-Match": f'"{reservation["version"]}"'},
    ).json
    event = events(api, feed["url"])[uid]
    assert event.decoded("DTSTART") == at(day, "14:00")
    assert event.decoded("DTEND") == at(day, "15:30")
    assert int(event["SEQUENCE"]) == 1

    api.act(moved, "cancel")
    event = events(api, feed["url"])[uid]  # same UID: the subscribed calendar updates it
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 2


def test_space_feed_shows_busy_blocks_only(api, db):
    space = SpaceFactory()
    day = park_day(3)
    api.book(space.id, at(day, "10:00"), at(day, "11:00"), user="carol", title="Confidential merger talk")
    url = api.get(f"/calendars/spaces/{space.id}/feed", user="bob").json["url"]
    [event] = events(api, url).values()
    assert "merger" not in str(event.to_ical())
    assert str(event["SUMMARY"]) == "Busy"
    # Calendar clients append their own cache-busting parameters to a subscribed URL.
    busted = api.client.get(feed_path(url) + "?nocache=1733000000")
    assert busted.status_code == 200, busted.get_data(as_text=True)
    assert busted.mimetype == "text/calendar"


def test_feeds_are_private_and_rotatable(api, db):
    space = SpaceFactory()
    assert api.get(f"/calendars/organisations/{ORG_A}/feed", user="carol").status_code == 403
    assert api.get(f"/calendars/organisations/{ORG_B}/feed", user="desk").status_code == 200
    old = api.get("/calendars/organisations/mine/feed").json["url"]
    assert api.post("/calendars/organisations/mine/feed/rotate", user="bob").status_code == 403
    new = api.post("/calendars/organisations/mine/feed/rotate", user="alice").json["url"]
    assert new != old
    assert api.client.get(feed_path(old)).status_code == 404
    assert api.client.get(feed_path(new)).status_code == 200
    assert api.client.get(feed_path(new).replace(ORG_A, ORG_B)).status_code == 404
    assert api.post(f"/calendars/spaces/{space.id}/feed/rotate", user="alice").status_code == 403
    assert api.post(f"/calendars/spaces/{space.id}/feed/rotate", user="admin").status_code == 200
    assert api.get("/calendars/planets/x/feed").status_code == 404


def test_changing_visitors_is_published_and_updates_the_feed(api, db):
    space = SpaceFactory()
    day = park_day(3)
    reservation = api.book(space.id, at(day, "10:00"), at(day, "11:00"), title="Partner visit").json
    url = api.get("/calendars/organisations/mine/feed").json["url"]
    uid = f"{reservation['id']}@parkhub.tianfu-lifescience.cn"
    changed = api.put(
        f"/reservations/{reservation['id']}/visitors",
        {"visitors": [{"name": "Dr. Wu", "company": "Huaxi", "car_plate": "川A55555"}]},
        **{"If-Match": f'"{reservation["version"]}"'},
    )
    assert changed.status_code == 200
    event = events(api, url)[uid]
    assert int(event["SEQUENCE"]) == 1
    assert "Dr. Wu" in str(event["DESCRIPTION"])
    published = outbox(db)[-1]
    assert published["type"] == "booking.reservation.visitors_changed"
    assert published["data"]["visitors"] == [
        {"name": "Dr. Wu", "company": "Huaxi", "car_plate": "川A55555", "plate_kind": "mainland"}
    ]
    assert published["data"]["version"] == changed.json["version"]
