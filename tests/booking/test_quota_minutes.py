"""``GET /quotas/usage`` answers whole minutes (it answered float hours such as 0.33) and names
the calendar month it counts, in park time; ``month=`` picks another one."""

from __future__ import annotations

from datetime import datetime

import pytest

from shared.clock import PARK_TZ
from tests.booking.conftest import ORG_A, ORG_B, at
from tests.booking.factories import QuotaRuleFactory, ReservationFactory, SpaceFactory


def _row(answer, kind="conference_room"):
    return next(item for item in answer["items"] if item["space_kind"] == kind)


@pytest.fixture
def twenty_minutes_used(db):
    """Organisation A has 2 free hours of conference rooms; it used 20 minutes in December 2026."""
    QuotaRuleFactory(org_id="*", space_kind="conference_room", free_hours_per_month=2)
    space = SpaceFactory()
    ReservationFactory(
        space=space, start=at(datetime(2026, 12, 3).date(), "10:00"), minutes=20, quota_minutes=20, billable_minutes=0
    )
    return space


def test_usage_is_whole_minutes_of_a_named_month(api, twenty_minutes_used):
    answer = api.get("/quotas/usage?month=2026-12").json
    assert answer["month"] == "2026-12"
    assert answer["organisation_id"] == ORG_A
    row = _row(answer)
    assert row == {
        "space_kind": "conference_room",
        "space_kind_label": "Conference room",
        "free_hours_per_month": 2,
        "free_minutes": 120,
        "used_minutes": 20,
        "left_minutes": 100,
    }
    assert all(isinstance(row[key], int) for key in ("free_minutes", "used_minutes", "left_minutes"))
    assert "used_hours" not in row and "left_hours" not in row


def test_the_month_is_a_calendar_month_in_park_time(api, twenty_minutes_used):
    """A reservation at 00:30 on 1 January in park time (16:30 UTC on 31 December) is January's."""
    ReservationFactory(
        space=twenty_minutes_used,
        start=datetime(2027, 1, 1, 0, 30, tzinfo=PARK_TZ),
        minutes=30,
        quota_minutes=30,
        billable_minutes=0,
    )
    assert _row(api.get("/quotas/usage?month=2026-12").json)["used_minutes"] == 20
    january = api.get("/quotas/usage?month=2027-01").json
    assert (january["month"], _row(january)["used_minutes"], _row(january)["left_minutes"]) == ("2027-01", 30, 90)


def test_without_month_it_counts_this_month_and_says_which(api, db):
    QuotaRuleFactory(org_id="*", space_kind="conference_room", free_hours_per_month=1)
    answer = api.get("/quotas/usage").json
    assert answer["month"] == datetime.now(PARK_TZ).strftime("%Y-%m")
    assert _row(answer)["left_minutes"] == 60


def test_left_is_never_below_zero(api, db):
    QuotaRuleFactory(org_id="*", space_kind="conference_room", free_hours_per_month=0)
    ReservationFactory(start=at(datetime(2026, 12, 3).date(), "10:00"), quota_minutes=45, billable_minutes=15)
    assert (_row(api.get("/quotas/usage?month=2026-12").json)["used_minutes"]) == 45
    assert (_row(api.get("/quotas/usage?month=2026-12").json)["left_minutes"]) == 0


@pytest.mark.parametrize(
    ("user", "status"),
    [("alice", 200), ("bob", 200), ("desk", 200), ("admin", 200), ("carol", 403), ("dave", 403), ("bank", 403)],
)
def test_who_reads_an_organisations_usage(api, twenty_minutes_used, user, status):
    response = api.get(f"/quotas/usage?month=2026-12&organisation_id={ORG_A}", user=user)
    assert response.status_code == status, response.json
    if status == 200:
        assert _row(response.json)["used_minutes"] == 20


def test_everyone_reads_their_own_without_naming_it(api, twenty_minutes_used):
    assert api.get("/quotas/usage?month=2026-12", user="carol").json["organisation_id"] == ORG_B
    assert _row(api.get("/quotas/usage?month=2026-12", user="carol").json)["used_minutes"] == 0
    assert api.get("/quotas/usage?month=2026-12", user="bank").status_code == 200


@pytest.mark.parametrize(
    "month", ["2026-13", "2026-1", "26-12", "December", "2026-12-01", "1969-12", "3000-01", "2026-00"]
)
def test_a_month_that_is_not_one_is_a_422(api, db, month):
    response = api.get(f"/quotas/usage?month={month}")
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert "month" in response.json["errors"]


def test_the_openapi_document_says_minutes_are_integers(api, db):
    schemas = api.get("/api/v1/booking/openapi.json", user=None).json["components"]["schemas"]
    usage = next(
        s for name, s in schemas.items() if name.startswith("QuotaUsage") and "used_minutes" in s.get("properties", {})
    )
    for key in ("free_minutes", "used_minutes", "left_minutes"):
        assert usage["properties"][key]["type"] == "integer"
