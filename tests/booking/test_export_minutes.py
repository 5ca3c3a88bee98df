"""The export for billing writes the minutes a reservation is billed for, not the ones it was
priced with: a reservation whose state does not count for the quota (cancelled, rejected) used no
free minutes (``quota_minutes`` 0, as ``/quotas/usage`` says) and has no billable minutes (0: a
late cancellation is billed its ``cancellation_fee``, not minutes; a rejected request nothing). Every
other state keeps what it was priced with. The same for a tenant admin, desk staff and park admin."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from tests.booking.conftest import ORG_A, at, park_day
from tests.booking.factories import ReservationFactory, SpaceFactory

EXPORTERS = ("alice", "desk", "admin")


def exported(api, day, user: str) -> dict[str, dict[str, str]]:
    response = api.get(f"/reports/reservations.csv?from={day}&to={day}&header=keys", user=user)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data().decode("utf-8-sig")
    response.close()
    return {row["reservation_id"]: row for row in csv.DictReader(io.StringIO(body, newline=""))}


@pytest.mark.parametrize("user", EXPORTERS)
def test_a_cancelled_booking_used_no_free_minutes_in_the_export_as_in_the_usage(api, db, user):
    """Booked over HTTP inside the free hours, then withdrawn: the usage gives the minutes back,
    and so does the export."""
    quota = {"org_id": ORG_A, "space_kind": "conference_room", "free_hours_per_month": 10}
    assert api.put("/quotas", quota, user="admin", **{"If-Match": "*"}).status_code in (200, 201)
    day = park_day(3)
    space = SpaceFactory(kind="conference_room")
    made = api.book(space.id, at(day, "10:00"), at(day, "11:00"), user="alice").json
    assert (made["quota_minutes"], made["billable_minutes"]) == (60, 0)
    kept = api.book(space.id, at(day, "14:00"), at(day, "14:30"), user="bob").json
    assert api.act(made, "cancel", user="alice").status_code == 200

    usage = api.get(f"/quotas/usage?month={day:%Y-%m}", user="alice").json
    used = {item["space_kind"]: item["used_minutes"] for item in usage["items"]}["conference_room"]
    rows = exported(api, day, user)
    cancelled, confirmed = rows[made["id"]], rows[kept["id"]]
    assert (cancelled["status"], cancelled["quota_minutes"], cancelled["billable_minutes"]) == ("cancelled", "0", "0")
    assert cancelled["cancellation_fee"] == "0.00"
    assert (confirmed["status"], confirmed["quota_minutes"], confirmed["billable_minutes"]) == ("confirmed", "30", "0")
    assert sum(int(row["quota_minutes"]) for row in rows.values()) == used == 30


@pytest.mark.parametrize("user", EXPORTERS)
def test_each_state_is_billed_the_minutes_that_count(api, db, user):
    """Priced with 60 free and 30 billable minutes each: only the states that count for the quota
    (pending approval, confirmed, checked in, completed, no-show) keep them."""
    day = park_day(5)
    space = SpaceFactory(kind="conference_room")
    priced = {"minutes": 90, "price": Decimal("50.50"), "quota_minutes": 60, "billable_minutes": 30}
    made = {
        status: ReservationFactory(space=space, start=at(day, f"{8 + 2 * n:02d}:00"), status=status, **priced)
        for n, status in enumerate(("pending_approval", "confirmed", "completed", "no_show", "rejected"))
    }
    made["cancelled"] = ReservationFactory(
        space=space, start=at(day, "19:00"), status="cancelled", cancellation_fee=Decimal("25.25"), **priced
    )
    rows = exported(api, day, user)
    minutes = {status: (rows[r.id]["quota_minutes"], rows[r.id]["billable_minutes"]) for status, r in made.items()}
    assert minutes == {
        "pending_approval": ("60", "30"),
        "confirmed": ("60", "30"),
        "completed": ("60", "30"),
        "no_show": ("60", "30"),
        "rejected": ("0", "0"),
        "cancelled": ("0", "0"),
    }
    assert rows[made["cancelled"].id]["cancellation_fee"] == "25.25"  # what a late cancellation is billed
    assert rows[made["cancelled"].id]["price"] == "50.50"  # the price it was booked at, as before
    assert rows[made["rejected"].id]["cancellation_fee"] == ""
