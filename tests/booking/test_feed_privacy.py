"""A space's iCalendar feed shows busy time only: nothing in it leads back to a tenant's
reservation (no reservation id, title, organisation, description or creation time), and the
same reservation never shares a UID between the space feed and its organisation's feed.
Both feeds are parsed with the icalendar library, as a calendar client would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from tests.booking.conftest import at, park_day
from tests.booking.factories import SpaceFactory

ZH = {"Accept-Language": "zh-CN"}


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _fetch(api, url: str, **headers: str) -> tuple[bytes, list]:
    response = api.client.get(_path(url), headers=headers)  # no bearer header: the secret is the key
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    return response.data, list(Calendar.from_ical(response.data).walk("VEVENT"))


@pytest.fixture
def booked(api, db):
    """Carol's confidential meeting in a room with buffers, and the two feeds it appears in."""
    space = SpaceFactory(setup_minutes=30, cleanup_minutes=15, name="Round-Table Room", name_zh="圆桌会议室")
    day = park_day(3)
    reservation = api.book(
        space.id,
        at(day, "10:00"),
        at(day, "11:00"),
        user="carol",
        title="Confidential merger talk",
        note="Bring the term sheet",
        visitors=[{"name": "Ms. Zhou", "company": "Tianfu Capital"}],
    ).json
    space_url = api.get(f"/calendars/spaces/{space.id}/feed", user="bob").json["url"]
    org_url = api.get("/calendars/organisations/mine/feed", user="carol").json["url"]
    return space, day, reservation, space_url, org_url


def test_the_space_feed_carries_busy_time_and_nothing_that_leads_to_the_reservation(api, booked):
    space, day, reservation, space_url, _org = booked
    raw, [event] = _fetch(api, space_url)
    text = raw.decode()
    assert reservation["id"] not in text
    for leaking in ("merger", "Tianfu Genomics", "Carol Zhang", "Ms. Zhou", "term sheet", "user:carol"):
        assert leaking not in text, leaking
    for absent in ("CREATED", "DESCRIPTION", "LAST-MODIFIED", "ORGANIZER", "ATTENDEE", "CONTACT", "COMMENT"):
        assert absent not in event, absent
    assert str(event["SUMMARY"]) == "Busy"
    # The hold: buffers included, since the space is busy for them too.
    assert event.decoded("DTSTART") == at(day, "10:00") - timedelta(minutes=30)
    assert event.decoded("DTEND") == at(day, "11:00") + timedelta(minutes=15)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 0
    assert "DTSTAMP" in event  # RFC 5545 requires it: the time of the answer


def test_the_two_feeds_never_share_a_uid(api, booked):
    space, _day, reservation, space_url, org_url = booked
    _raw, [busy] = _fetch(api, space_url)
    _raw, org_events = _fetch(api, org_url)
    org_uids = {str(e["UID"]) for e in org_events}
    assert f"{reservation['id']}@parkhub.tianfu-lifescience.cn" in org_uids  # the organisation's own, as before
    assert str(busy["UID"]) not in org_uids
    assert reservation["id"] not in str(busy["UID"])
    # The organisation's feed keeps its details.
    [mine] = org_events
    assert "Confidential merger talk" in str(mine["SUMMARY"])
    assert "CREATED" in mine and "DESCRIPTION" in mine


def test_a_busy_block_keeps_its_uid_through_changes_so_calendars_update_it(api, booked):
    space, day, reservation, space_url, _org = booked
    _raw, [before] = _fetch(api, space_url)
    moved = api.post(
        f"/reservations/{reservation['id']}/reschedule",
        {"start": at(day, "14:00").isoformat(), "end": at(day, "15:00").isoformat()},
        user="carol",
        **{"If-Match": f'"{reservation["version"]}"'},
    ).json
    _raw, [after] = _fetch(api, space_url)
    assert str(after["UID"]) == str(before["UID"])
    assert int(after["SEQUENCE"]) == 1
    assert after.decoded("DTSTART") == at(day, "14:00") - timedelta(minutes=30)
    api.act(moved, "cancel", user="carol")
    _raw, [gone] = _fetch(api, space_url)
    assert (str(gone["UID"]), str(gone["STATUS"])) == (str(before["UID"]), "CANCELLED")


def test_renewing_the_link_renews_the_uids(api, booked):
    """The UIDs are keyed by the feed's secret: an old subscriber cannot match the new ones."""
    space, _day, _reservation, space_url, _org = booked
    _raw, [before] = _fetch(api, space_url)
    renewed = api.post(f"/calendars/spaces/{space.id}/feed/rotate", user="admin").json["url"]
    _raw, [after] = _fetch(api, renewed)
    assert str(after["UID"]) != str(before["UID"])


def test_the_busy_word_follows_the_calendar_clients_language(api, booked):
    _space, _day, _reservation, space_url, _org = booked
    _raw, [event] = _fetch(api, space_url, **ZH)
    assert str(event["SUMMARY"]) == "占用"


@pytest.mark.parametrize("user", ["alice", "bob", "carol", "dave", "desk", "admin", "bank"])
def test_any_signed_in_user_may_have_a_space_feed_link(api, db, user):
    """Busy time only, so every signed-in user may subscribe (the table of rights says so)."""
    space = SpaceFactory()
    response = api.get(f"/calendars/spaces/{space.id}/feed", user=user)
    assert response.status_code == 200
    assert api.get(f"/calendars/spaces/{space.id}/feed", user=None).status_code == 401
