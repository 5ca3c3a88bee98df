"""Recurring reservations: per-occurrence outcomes, all-or-nothing or skip-conflicts, and
cancelling or moving one occurrence or the rest of a series."""

from __future__ import annotations

from datetime import timedelta

from tests.booking.conftest import at, outbox, park_day
from tests.booking.factories import SpaceFactory


def weekly(api, space_id, *, count=4, mode="all_or_nothing", user="alice", days_ahead=2, **extra):
    first = park_day(days_ahead)
    body = {
        "space_id": space_id,
        "start": at(first, "10:00").isoformat(),
        "end": at(first, "11:00").isoformat(),
        "rrule": f"FREQ=WEEKLY;COUNT={count}",
        "mode": mode,
        "title": "Weekly lab sync",
        "attendees": 6,
        **extra,
    }
    return api.post("/series", body, user=user), first


def test_a_weekly_series_books_every_occurrence(api, db):
    space = SpaceFactory()
    response, first = weekly(api, space.id)
    assert response.status_code == 201, response.json
    outcomes = response.json["occurrences"]
    assert [o["outcome"] for o in outcomes] == ["booked"] * 4
    assert [o["start"] for o in outcomes] == [at(first + timedelta(weeks=i), "10:00").isoformat() for i in range(4)]
    series = api.get(f"/series/{response.json['series_id']}").json
    assert len(series["occurrences"]) == 4
    assert api.get(f"/series/{response.json['series_id']}", user="carol").status_code == 404
    assert len([e for e in outbox(db) if e["type"] == "booking.reservation.confirmed"]) == 4
    assert all(e["data"]["series_id"] == response.json["series_id"] for e in outbox(db))


def test_all_or_nothing_refuses_the_whole_series_and_lists_why(api, db):
    space = SpaceFactory()
    third = park_day(2) + timedelta(weeks=2)
    api.book(space.id, at(third, "10:30"), at(third, "11:30"), user="carol")
    before = len(outbox(db))
    response, _ = weekly(api, space.id)
    assert response.status_code == 409
    assert response.json["type"].endswith("rule/series-conflict")
    outcomes = response.json["occurrences"]
    assert [o["outcome"] for o in outcomes] == ["would_book", "would_book", "conflict", "would_book"]
    assert outcomes[2]["problem"]["code"] == "rule/no-double-booking"
    assert len(outbox(db)) == before  # nothing was kept
    assert api.get("/reservations").json["total"] == 0


def test_skip_conflicts_keeps_the_rest(api, db):
    space = SpaceFactory(horizon_days=20)
    third = park_day(2) + timedelta(weeks=2)
    api.book(space.id, at(third, "10:30"), at(third, "11:30"), user="carol")
    response, _ = weekly(api, space.id, mode="skip_conflicts", count=5)
    assert response.status_code == 201
    outcomes = response.json["occurrences"]
    # COUNT=5 reaches past the 20-day horizon: those occurrences are listed, refused.
    assert [o["outcome"] for o in outcomes] == ["booked", "booked", "conflict", "refused", "refused"]
    assert [o["problem"]["code"] for o in outcomes[3:]] == ["rule/horizon", "rule/horizon"]
    assert [o["index"] for o in outcomes] == [0, 1, 2, 3, 4]
    assert api.get("/reservations").json["total"] == 2


def test_all_or_nothing_refuses_a_series_reaching_past_the_horizon(api, db):
    space = SpaceFactory(horizon_days=20)
    response, _ = weekly(api, space.id, count=5)
    assert response.status_code == 409
    assert response.json["type"].endswith("rule/series-conflict")
    outcomes = response.json["occurrences"]
    assert [o["outcome"] for o in outcomes] == ["would_book", "would_book", "would_book", "refused", "refused"]
    assert outcomes[4]["problem"]["code"] == "rule/horizon"
    assert api.get("/reservations").json["total"] == 0


def test_the_given_start_is_the_first_occurrence(api, db):
    space = SpaceFactory()
    first = park_day(2)
    other = "MO" if first.weekday() != 0 else "TU"
    response, _ = weekly(api, space.id, rrule=f"FREQ=WEEKLY;BYDAY={other};COUNT=3")
    assert response.status_code == 201, response.json
    starts = [o["start"] for o in response.json["occurrences"]]
    assert starts[0] == at(first, "10:00").isoformat()
    assert len(starts) == 3


def test_interval_zero_is_refused(api, db):
    space = SpaceFactory()
    response, _ = weekly(api, space.id, rrule="FREQ=WEEKLY;INTERVAL=0;COUNT=3")
    assert response.status_code == 422 and response.json["type"].endswith("rule/rrule")


def test_cancel_one_occurrence_or_the_rest(api, db):
    space = SpaceFactory()
    response, _ = weekly(api, space.id, count=5)
    series_id = response.json["series_id"]
    ids = [o["reservation_id"] for o in response.json["occurrences"]]
    one = api.get(f"/reservations/{ids[1]}").json
    assert api.act(one, "cancel").json["status"] == "cancelled"
    etag = api.get(f"/series/{series_id}").headers["ETag"]
    assert api.post(f"/series/{series_id}/cancel", {"from_reservation_id": ids[3]}).status_code == 428
    rest = api.post(
        f"/series/{series_id}/cancel", {"from_reservation_id": ids[3], "reason": "Project ended"}, **{"If-Match": etag}
    )
    assert rest.status_code == 200, rest.json
    assert [o["reservation_id"] for o in rest.json["occurrences"]] == ids[3:]
    assert [o["index"] for o in rest.json["occurrences"]] == [3, 4]
    assert api.get(f"/reservations/{ids[3]}").json["occurrence"] == 3
    statuses = [o["status"] for o in api.get(f"/series/{series_id}").json["occurrences"]]
    assert statuses == ["confirmed", "cancelled", "confirmed", "cancelled", "cancelled"]
    assert api.post(f"/series/{series_id}/cancel", {}, user="carol", **{"If-Match": "*"}).status_code == 404


def test_move_the_rest_of_a_series(api, db):
    space = SpaceFactory()
    response, first = weekly(api, space.id, count=4)
    series_id = response.json["series_id"]
    ids = [o["reservation_id"] for o in response.json["occurrences"]]
    etag = api.get(f"/series/{series_id}").headers["ETag"]
    moved = api.post(
        f"/series/{series_id}/move", {"from_reservation_id": ids[2], "shift_minutes": 120}, **{"If-Match": etag}
    )
    assert moved.status_code == 200, moved.json
    assert [o["outcome"] for o in moved.json["occurrences"]] == ["moved", "moved"]
    assert [o["index"] for o in moved.json["occurrences"]] == [2, 3]
    starts = [o["start"] for o in api.get(f"/series/{series_id}").json["occurrences"]]
    assert starts[1] == at(first + timedelta(weeks=1), "10:00").isoformat()
    assert starts[2] == at(first + timedelta(weeks=2), "12:00").isoformat()
    # One occurrence alone moves by rescheduling it.
    one = api.get(f"/reservations/{ids[0]}").json
    day = first + timedelta(days=1)
    single = api.post(
        f"/reservations/{ids[0]}/reschedule",
        {"start": at(day, "15:00").isoformat(), "end": at(day, "16:00").isoformat()},
        **{"If-Match": f'"{one["version"]}"'},
    )
    assert single.status_code == 200
    assert single.json["series_id"] == series_id


def test_moving_into_a_conflict_is_all_or_nothing(api, db):
    space = SpaceFactory()
    response, first = weekly(api, space.id, count=3)
    series_id = response.json["series_id"]
    last = first + timedelta(weeks=2)
    api.book(space.id, at(last, "12:00"), at(last, "13:00"), user="carol")
    etag = api.get(f"/series/{series_id}").headers["ETag"]
    refused = api.post(f"/series/{series_id}/move", {"shift_minutes": 120}, **{"If-Match": etag})
    assert refused.status_code == 409
    assert [o["outcome"] for o in refused.json["occurrences"]] == ["would_move", "would_move", "conflict"]
    starts = [o["start"] for o in api.get(f"/series/{series_id}").json["occurrences"]]
    assert starts[0] == at(first, "10:00").isoformat()  # unchanged


def test_moving_by_nothing_is_refused(api, db):
    space = SpaceFactory()
    response, _ = weekly(api, space.id, count=2)
    series_id = response.json["series_id"]
    etag = api.get(f"/series/{series_id}").headers["ETag"]
    refused = api.post(f"/series/{series_id}/move", {"shift_minutes": 0}, **{"If-Match": etag})
    assert refused.status_code == 422 and refused.json["type"].endswith("rule/series-move")


def test_bad_rules_are_named(api, db):
    space = SpaceFactory()
    response, _ = weekly(api, space.id, rrule="FREQ=FORTNIGHTLY")
    assert response.status_code == 422 and response.json["type"].endswith("rule/rrule")
