"""Each organisation's timeline over HTTP: one line per event of booking, consulting and finance
about it, in order, in the reader's language; a tenant reads their own, staff any; an event
delivered twice is one line."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from services.notify.handlers import timeline
from services.notify.models import TimelineEntry
from shared.bus.inbox import Outcome
from shared.db import Database
from shared.events import Event
from shared.settings import Settings
from tests.booking.conftest import Api
from tests.notify.conftest import deliver, event
from tests.notify.samples import ORG_A, ORG_B, sample, sample_types

PROBLEM = "application/problem+json"
BASE = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def publish(settings: Settings, type: str, minutes: int = 0, *, orgid: str | None = None, **data: Any) -> Event:
    """Deliver a valid event of ``type`` that happened ``minutes`` after BASE."""
    sent = replace(event(type, sample(type, **data), orgid=orgid), time=BASE + timedelta(minutes=minutes))
    assert deliver(settings, sent) is Outcome.HANDLED
    return sent


def lines(api: Api, user: str, query: str = "", **headers: str) -> list[dict[str, Any]]:
    answer = api.get(f"/timeline{query}", user=user, headers=headers)
    assert answer.status_code == 200, answer.json
    return list(answer.json["items"])


def journey(settings: Settings) -> list[Event]:
    """ORG_A's booking approved, a case and an application; one event of ORG_B between them.
    Published out of order: the timeline orders by the event's time."""
    return [
        publish(settings, "booking.reservation.confirmed", 5, title="Board meeting"),
        publish(settings, "booking.reservation.requested", 1, title="Board meeting"),
        publish(settings, "consulting.case.submitted", 10),
        publish(settings, "consulting.case.submitted", 11, org_id=ORG_B, submitted_by="user:dave"),
        publish(settings, "finance.application.offer_made", 20),
    ]


def test_a_tenant_reads_their_organisations_timeline_oldest_first(api: Api, settings: Settings) -> None:
    sent = journey(settings)
    got = lines(api, "bob")
    assert [line["event_type"] for line in got] == [
        "booking.reservation.requested",
        "booking.reservation.confirmed",
        "consulting.case.submitted",
        "finance.application.offer_made",
    ]
    confirmed = got[1]
    assert confirmed["title"] == "Booking confirmed: “Board meeting” in Room A-101"
    assert confirmed["service"] == "booking"
    assert confirmed["subject_id"] == sample("booking.reservation.confirmed")["reservation_id"]
    assert confirmed["correlation_id"] == sent[0].correlationid
    assert confirmed["at"] == "2026-11-30T09:05:00+08:00"
    assert got[3]["title"] == "Offer received: application 66666666, 500000.00 CNY"
    assert set(got[0]) == {"at", "event_type", "service", "title", "subject_id", "correlation_id"}
    assert [line["event_type"] for line in lines(api, "alice")] == [line["event_type"] for line in got]


def test_newest_first_on_request(api: Api, settings: Settings) -> None:
    journey(settings)
    assert [line["event_type"] for line in lines(api, "alice", "?order=desc")] == [
        "finance.application.offer_made",
        "consulting.case.submitted",
        "booking.reservation.confirmed",
        "booking.reservation.requested",
    ]


def test_another_organisations_events_are_not_on_it(api: Api, settings: Settings) -> None:
    journey(settings)
    assert [line["event_type"] for line in lines(api, "carol")] == ["consulting.case.submitted"]
    assert lines(api, "dave")[0]["subject_id"] == sample("consulting.case.submitted")["case_id"]


def test_staff_read_any_organisations_timeline(api: Api, settings: Settings) -> None:
    journey(settings)
    for user in ("desk", "admin"):
        answer = api.get(f"/timeline?org_id={ORG_A}", user=user)
        assert answer.status_code == 200
        assert answer.json["org_id"] == ORG_A and answer.json["total"] == 4
        assert "booking.reservation.confirmed" in [line["event_type"] for line in answer.json["items"]]
    assert len(lines(api, "desk", f"?org_id={ORG_B}")) == 1
    assert lines(api, "desk") == []  # the operator's own: nothing happened to it


def test_a_tenant_may_not_read_another_organisations_timeline(api: Api, settings: Settings) -> None:
    journey(settings)
    answer = api.get(f"/timeline?org_id={ORG_A}", user="carol")
    assert answer.status_code == 403 and answer.mimetype == PROBLEM
    assert answer.json["action"] == "read_timeline"
    assert len(lines(api, "alice", f"?org_id={ORG_A}")) == 4  # naming their own is fine


def test_partners_and_strangers_may_not_read_a_timeline(api: Api) -> None:
    for user in ("bank", "lawyer"):
        answer = api.get(f"/timeline?org_id={ORG_A}", user=user)
        assert answer.status_code == 403 and answer.mimetype == PROBLEM, user
    answer = api.get("/timeline", user=None)
    assert answer.status_code == 401 and answer.mimetype == PROBLEM


def test_lines_are_in_the_readers_language(api: Api, settings: Settings) -> None:
    journey(settings)
    zh = lines(api, "alice", **{"Accept-Language": "zh"})
    assert zh[1]["title"].startswith("预订已确认")
    assert "A-101会议室" in zh[1]["title"]  # the space as the event names it in Chinese
    en = lines(api, "alice", **{"Accept-Language": "en"})
    assert "Room A-101" in en[1]["title"]


def test_a_period_narrows_the_timeline(api: Api, settings: Settings) -> None:
    journey(settings)
    query = "?from=2026-11-30T09:05:00%2B08:00&to=2026-11-30T01:20:00Z"
    assert [line["event_type"] for line in lines(api, "alice", query)] == [
        "booking.reservation.confirmed",
        "consulting.case.submitted",
    ]


def test_pages(api: Api, settings: Settings) -> None:
    journey(settings)
    answer = api.get("/timeline?page=2&page_size=3", user="alice")
    assert answer.status_code == 200
    assert answer.json["total"] == 4 and answer.json["page"] == 2
    assert [line["event_type"] for line in answer.json["items"]] == ["finance.application.offer_made"]


def test_bad_queries_are_refused(api: Api) -> None:
    for query in (
        "?page=0",
        "?page_size=500",
        "?order=sideways",
        "?from=yesterday",
        "?from=2026-11-30T10:00:00",  # no offset
        "?from=2026-11-30T10:00:00Z&to=2026-11-30T09:00:00Z",
    ):
        answer = api.get(f"/timeline{query}", user="alice")
        assert answer.status_code == 422 and answer.mimetype == PROBLEM, query
    answer = api.get("/timeline?organisation=x", user="alice")
    assert answer.status_code == 400 and answer.mimetype == PROBLEM


def test_an_event_delivered_twice_is_one_line(api: Api, settings: Settings, db: Database) -> None:
    sent = publish(settings, "booking.reservation.confirmed")
    assert deliver(settings, sent) is Outcome.DUPLICATE
    with db.unit_of_work() as uow:  # past the inbox too
        timeline.record(sent, uow=uow)
        timeline.record(sent, uow=uow)
        uow.commit()
    assert len(lines(api, "alice")) == 1
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(TimelineEntry)) == 1


def test_an_event_without_org_id_goes_by_its_envelope_or_nowhere(api: Api, settings: Settings) -> None:
    publish(settings, "booking.room_hold.released", 1, orgid=ORG_A)
    publish(settings, "booking.room_hold.released", 2)
    [line] = lines(api, "alice")
    assert line["event_type"] == "booking.room_hold.released" and line["title"] == "Room released"
    assert line["subject_id"] is None


def test_every_event_type_makes_a_line_in_both_languages(db: Database) -> None:
    with db.unit_of_work() as uow:
        for type in sample_types():
            timeline.record(event(type, sample(type), orgid=ORG_A), uow=uow)
        uow.commit()
    with db.reading() as session:
        entries = session.execute(
            select(TimelineEntry.event_type, TimelineEntry.org_id, TimelineEntry.title_en, TimelineEntry.title_zh)
        ).all()
    assert {e.event_type for e in entries} == set(sample_types())
    for entry in entries:
        assert entry.title_en and entry.title_zh and "{" not in entry.title_en + entry.title_zh, entry.event_type
        assert entry.org_id == ORG_A


def test_edge_times_and_nul_characters_are_no_server_error(api: Api) -> None:
    for query in (
        "?from=0001-01-01T00:00:00%2B08:00",
        "?to=9999-12-31T23:59:59-08:00",
        "?event_type=%00",
        "?org_id=%00",
    ):
        answer = api.get(f"/timeline{query}", user="desk")
        assert answer.status_code < 500 and answer.mimetype in ("application/json", PROBLEM), query
    for path in ("/timeline?event_type=%00", "/timeline?org_id=a%00b", "/notifications?event_type=%00"):
        answer = api.get(path, user="desk")  # PostgreSQL cannot compare text with a NUL in it
        assert answer.status_code == 422 and answer.mimetype == PROBLEM, path
