"""Bad input is a 4xx problem naming what is wrong: never a 500, never a partial write."""

from __future__ import annotations

import time

import pytest

from tests.booking.conftest import ORG_A, at, outbox, park_day
from tests.booking.factories import QuotaRuleFactory, SpaceFactory
from tests.booking.test_reservations import code

UNKNOWN_ORG = "00000000-0000-4000-8000-0000000000ff"


def test_desk_staff_cannot_book_for_an_overlong_organisation_id(api, db, slot):
    space = SpaceFactory()
    response = api.book(space.id, *slot(), user="desk", organisation_id="x" * 100)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "organisation_id" in str(response.json["errors"])
    assert api.get("/reservations", user="desk").json["total"] == 0
    assert outbox(db) == []


def test_desk_staff_cannot_book_for_an_organisation_booking_does_not_know(api, db, slot):
    space = SpaceFactory()
    response = api.book(space.id, *slot(), user="desk", organisation_id=UNKNOWN_ORG)
    assert response.status_code == 422
    assert code(response) == "rule/unknown-organisation"
    assert api.get("/reservations", user="desk").json["total"] == 0
    assert outbox(db) == []


def test_organisation_feeds_exist_only_for_known_organisations(api, db):
    assert api.get(f"/calendars/organisations/{'x' * 80}/feed", user="desk").status_code == 404
    assert api.get(f"/calendars/organisations/{UNKNOWN_ORG}/feed", user="desk").status_code == 404
    assert api.post(f"/calendars/organisations/{UNKNOWN_ORG}/feed/rotate", user="desk").status_code == 404
    assert api.get(f"/calendars/organisations/{ORG_A}/feed", user="desk").status_code == 200


def test_rotating_the_feed_of_a_space_that_does_not_exist_is_404(api, db):
    missing = "00000000-0000-4000-8000-00000000dead"
    assert api.post(f"/calendars/spaces/{missing}/feed/rotate", user="admin").status_code == 404
    assert api.post(f"/calendars/spaces/{'s' * 80}/feed/rotate", user="admin").status_code == 404
    assert api.get(f"/calendars/spaces/{'s' * 80}/feed", user="admin").status_code == 404
    assert api.get(f"/calendars/spaces/{'s' * 80}/{'t' * 30}.ics", user=None).status_code == 404


@pytest.mark.parametrize("org_id", ["o" * 65, UNKNOWN_ORG])
def test_quotas_are_set_only_for_known_organisations(api, db, org_id):
    rule = QuotaRuleFactory(org_id="*", space_kind="conference_room")
    body = {"org_id": org_id, "space_kind": "conference_room", "free_hours_per_month": 4}
    response = api.put("/quotas", body, user="admin", **{"If-Match": f'"{rule.version}"'})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert len(api.get("/quotas", user="admin").json["items"]) == 1


def test_a_rule_that_never_occurs_is_refused_quickly(api, db):
    space = SpaceFactory()
    first = park_day(2)
    body = {
        "space_id": space.id,
        "start": at(first, "10:00").isoformat(),
        "end": at(first, "11:00").isoformat(),
        "rrule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31",
        "title": "Never",
        "attendees": 4,
    }
    began = time.monotonic()
    response = api.post("/series", body)
    assert time.monotonic() - began < 0.5
    assert response.status_code == 422 and code(response) == "rule/rrule"


@pytest.mark.parametrize(
    ("field", "value"),
    [("attendees", 3.5), ("attendees", "12"), ("attendees", True), ("title", "   "), ("title", "")],
)
def test_attendees_are_whole_numbers_and_titles_are_not_blank(api, db, slot, field, value):
    space = SpaceFactory()
    response = api.book(space.id, *slot(), **{field: value})
    assert response.status_code == 422
    assert field in str(response.json["errors"])
    assert api.get("/reservations").json["total"] == 0


def test_titles_are_stored_stripped(api, db, slot):
    space = SpaceFactory()
    response = api.book(space.id, *slot(), title="  Lab sync  ")
    assert response.status_code == 201 and response.json["title"] == "Lab sync"
