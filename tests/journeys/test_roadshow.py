"""Journey 3 on the embedded platform (tests/journeys/roadshow.py), and its refusal: a roadshow
without a financing round is a 422 that writes nothing."""

from __future__ import annotations

from tests.journeys import roadshow
from tests.journeys.driver import EmbeddedDriver
from tests.journeys.roadshow import BOOKING, book_event, event_day, space_of_kind


def test_event_space_for_a_roadshow_or_a_product_launch(embedded: EmbeddedDriver) -> None:
    roadshow.run(embedded)


def test_a_roadshow_without_a_round_is_refused_and_writes_nothing(embedded: EmbeddedDriver) -> None:
    assert embedded.call("alice", "GET", f"{BOOKING}/financing-rounds").expect(200)["items"] == []
    hall = space_of_kind(embedded, "exhibition_hall")
    day = event_day(embedded, 30)
    before = embedded.call("desk", "GET", f"{BOOKING}/reservations?scope=all&page_size=200").expect(200)["total"]
    for ref in (None, "00000000-0000-4000-8000-000000000000"):
        fields = {"purpose_ref": ref} if ref else {}
        refused = book_event(embedded, "alice", hall, day, title="Roadshow", purpose="roadshow", **fields)
        assert refused.status == 422, refused.text
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        assert refused.json["type"].endswith("/rule/roadshow-without-round")
        assert "financing-rounds" in refused.json["detail"]
    # The refusals left nothing behind.
    after = embedded.call("desk", "GET", f"{BOOKING}/reservations?scope=all&page_size=200").expect(200)
    assert after["total"] == before
    assert [r for r in after["items"] if r["purpose"] is not None] == []
