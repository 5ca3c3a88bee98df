"""A refused series reports what would have happened and what blocked it, never reservations it
did not make; an RRULE with both COUNT and UNTIL is refused (RFC 5545)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.booking.conftest import at, outbox, park_day
from tests.booking.factories import SpaceFactory
from tests.booking.test_series import weekly

ZH = {"Accept-Language": "zh-CN"}


def test_a_refused_series_names_no_reservation_it_did_not_make(api, db):
    space = SpaceFactory()
    third = park_day(2) + timedelta(weeks=2)
    api.book(space.id, at(third, "10:30"), at(third, "11:30"), user="carol")
    before = len(outbox(db))
    response, first = weekly(api, space.id)
    assert response.status_code == 409
    assert response.json["type"].endswith("rule/series-conflict")
    outcomes = response.json["occurrences"]
    assert [o["outcome"] for o in outcomes] == ["would_book", "would_book", "conflict", "would_book"]
    # Nothing was written: no occurrence names a reservation or a status it does not have.
    assert [o["reservation_id"] for o in outcomes] == [None] * 4
    assert [o["status"] for o in outcomes] == [None] * 4
    assert outcomes[0]["outcome_label"] == "Would be booked"
    assert outcomes[2]["problem"]["code"] == "rule/no-double-booking"
    [blocked] = response.json["blocked"]
    assert blocked["index"] == 2
    assert blocked["code"] == "rule/no-double-booking"
    assert blocked["status"] == 409
    assert blocked["detail"] == "The space is already held at this time (setup and cleanup buffers included)."
    assert blocked["start"] == at(first + timedelta(weeks=2), "10:00").isoformat()
    assert len(outbox(db)) == before
    assert api.get("/reservations").json["total"] == 0


def test_a_series_past_the_horizon_names_each_refused_occurrence(api, db):
    space = SpaceFactory(horizon_days=20)
    response, _ = weekly(api, space.id, count=5)
    assert response.status_code == 409
    outcomes = response.json["occurrences"]
    assert [o["outcome"] for o in outcomes] == ["would_book"] * 3 + ["refused"] * 2
    assert [(b["index"], b["code"], b["status"]) for b in response.json["blocked"]] == [
        (3, "rule/horizon", 422),
        (4, "rule/horizon", 422),
    ]
    assert all(b["detail"] == "This space can be booked at most 20 days ahead." for b in response.json["blocked"])


def test_a_refused_series_speaks_chinese(api, db):
    space = SpaceFactory()
    third = park_day(2) + timedelta(weeks=2)
    api.book(space.id, at(third, "10:30"), at(third, "11:30"), user="carol")
    first = park_day(2)
    body = {
        "space_id": space.id,
        "start": at(first, "10:00").isoformat(),
        "end": at(first, "11:00").isoformat(),
        "rrule": "FREQ=WEEKLY;COUNT=4",
        "title": "Weekly lab sync",
        "attendees": 6,
    }
    refused = api.post("/series", body, **ZH)
    assert refused.status_code == 409
    assert refused.json["occurrences"][0]["outcome_label"] == "将可预订"
    assert refused.json["blocked"][0]["detail"] == "该场地在此时间段已被占用（含准备和清场时间）。"


def test_a_refused_series_move_reports_would_move_and_the_blocker(api, db):
    space = SpaceFactory()
    response, first = weekly(api, space.id, count=3)
    series_id = response.json["series_id"]
    ids = [o["reservation_id"] for o in response.json["occurrences"]]
    last = first + timedelta(weeks=2)
    api.book(space.id, at(last, "12:00"), at(last, "13:00"), user="carol")
    before = len(outbox(db))
    etag = api.get(f"/series/{series_id}").headers["ETag"]
    refused = api.post(f"/series/{series_id}/move", {"shift_minutes": 120}, **{"If-Match": etag})
    assert refused.status_code == 409
    outcomes = refused.json["occurrences"]
    assert [o["outcome"] for o in outcomes] == ["would_move", "would_move", "conflict"]
    # A move names the reservations it would have moved: they exist, unchanged.
    assert [o["reservation_id"] for o in outcomes] == ids
    assert [o["status"] for o in outcomes] == ["confirmed"] * 3
    assert outcomes[0]["start"] == at(first, "12:00").isoformat()  # where it would have gone
    assert refused.json["detail"] == "1 of 3 occurrences could not be moved; nothing was changed."
    [blocked] = refused.json["blocked"]
    assert (blocked["index"], blocked["code"]) == (2, "rule/no-double-booking")
    assert len(outbox(db)) == before
    occurrences = api.get(f"/series/{series_id}").json["occurrences"]
    assert [o["start"] for o in occurrences] == [at(first + timedelta(weeks=i), "10:00").isoformat() for i in range(3)]
    assert [o["version"] for o in occurrences] == [1, 1, 1]


def test_a_move_with_skip_conflicts_names_the_occurrence_it_left(api, db):
    space = SpaceFactory()
    response, first = weekly(api, space.id, count=3)
    series_id = response.json["series_id"]
    ids = [o["reservation_id"] for o in response.json["occurrences"]]
    last = first + timedelta(weeks=2)
    api.book(space.id, at(last, "12:00"), at(last, "13:00"), user="carol")
    etag = api.get(f"/series/{series_id}").headers["ETag"]
    moved = api.post(
        f"/series/{series_id}/move", {"shift_minutes": 120, "mode": "skip_conflicts"}, **{"If-Match": etag}
    )
    assert moved.status_code == 200, moved.json
    outcomes = moved.json["occurrences"]
    assert [o["outcome"] for o in outcomes] == ["moved", "moved", "conflict"]
    assert outcomes[2]["reservation_id"] == ids[2]
    assert "blocked" not in moved.json


@pytest.mark.parametrize("rrule", ["FREQ=WEEKLY;COUNT=3;UNTIL=20991231T000000Z", "FREQ=DAILY;UNTIL=20991231;COUNT=2"])
def test_count_and_until_together_are_refused(api, db, rrule):
    space = SpaceFactory()
    response, _ = weekly(api, space.id, rrule=rrule)
    assert response.status_code == 422
    assert response.json["type"].endswith("rule/rrule")
    assert response.json["detail"] == (
        "COUNT and UNTIL cannot both be given (RFC 5545): end the series by a number or by a date."
    )
    first = park_day(2)
    body = {
        "space_id": space.id,
        "start": at(first, "10:00").isoformat(),
        "end": at(first, "11:00").isoformat(),
        "rrule": rrule,
        "title": "Weekly",
        "attendees": 4,
    }
    chinese = api.post("/series", body, **ZH)
    assert chinese.status_code == 422
    assert "COUNT" in chinese.json["detail"] and "UNTIL" in chinese.json["detail"]
    assert chinese.json["detail"] != response.json["detail"]
    assert api.get("/reservations").json["total"] == 0


def test_count_or_until_alone_still_work(api, db):
    space = SpaceFactory()
    first = park_day(2)
    until = (first + timedelta(weeks=2)).strftime("%Y%m%dT235959Z")
    response, _ = weekly(api, space.id, rrule=f"FREQ=WEEKLY;UNTIL={until}")
    assert response.status_code == 201, response.json
    assert len(response.json["occurrences"]) == 3


def test_count_and_until_are_refused_before_dateutil_reads_the_rule():
    from datetime import UTC, datetime

    from services.booking.rules import Interval, occurrences
    from shared.errors import RuleViolation

    first = Interval(datetime(2026, 12, 1, 2, tzinfo=UTC), datetime(2026, 12, 1, 3, tzinfo=UTC))
    with pytest.raises(RuleViolation) as refused:
        occurrences("FREQ=WEEKLY;UNTIL=20270101T000000Z;COUNT=2", first, horizon=first.end)
    assert refused.value.code == "rule/rrule"
    assert "COUNT and UNTIL" in str(refused.value.detail)
