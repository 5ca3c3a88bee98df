"""The in-app feed over HTTP: who sees a notification (and who does not), the unread count and
read state per reader, the reader's language, preferences, an event delivered twice, and bad
requests answered as problems."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from services.notify.handlers import feed
from services.notify.models import Notification, NotificationRead, Preference
from shared.bus.inbox import Outcome
from shared.db import Database
from shared.events import Event
from shared.settings import Settings
from tests.booking.conftest import Api, User
from tests.notify.conftest import LAW, USERS, deliver, event
from tests.notify.samples import ORG_A, ORG_B, sample

PROBLEM = "application/problem+json"


def publish(settings: Settings, type: str, *, orgid: str | None = None, **data: Any) -> Event:
    """Deliver a valid event of ``type`` (the sample, with ``data`` replacing fields) to notify."""
    sent = event(type, sample(type, **data), orgid=orgid)
    assert deliver(settings, sent) is Outcome.HANDLED
    return sent


def items(api: Api, user: str, query: str = "", **headers: str) -> list[dict[str, Any]]:
    answer = api.get(f"/notifications{query}", user=user, headers=headers)
    assert answer.status_code == 200, answer.json
    return list(answer.json["items"])


def unread(api: Api, user: str) -> int:
    answer = api.get("/notifications/unread-count", user=user)
    assert answer.status_code == 200, answer.json
    return int(answer.json["unread"])


def with_users(api: Api, **extra: User) -> Api:
    api.users = {**USERS, **extra}
    return api


# Who sees what -----------------------------------------------------------------------------------


def test_the_booker_hears_of_their_confirmed_booking_and_nobody_else(api: Api, settings: Settings) -> None:
    sent = publish(settings, "booking.reservation.confirmed", title="Board meeting")
    [notice] = items(api, "alice")
    assert notice["event_type"] == "booking.reservation.confirmed"
    assert notice["kind"] == "booking"
    assert notice["title"] == "Booking confirmed"
    assert "Board meeting" in notice["body"] and "Room A-101" in notice["body"]
    assert notice["subject_id"] == sample("booking.reservation.confirmed")["reservation_id"]
    assert notice["org_id"] == ORG_A
    assert notice["correlation_id"] == sent.correlationid
    assert notice["read"] is False and notice["read_at"] is None
    assert notice["created_at"].endswith("+08:00")
    for other in ("bob", "carol", "dave", "lawyer", "bank", "desk", "admin"):
        assert items(api, other) == [], other


def test_a_submitter_who_is_also_the_admin_reads_the_event_once(api: Api, settings: Settings, db: Database) -> None:
    publish(settings, "consulting.case.quoted", submitted_by="user:alice")
    assert [n["audience"] for n in items(api, "alice")] == ["submitter"]
    assert unread(api, "alice") == 1
    with db.reading() as session:  # both notices exist: another admin would read the group's
        assert session.scalar(select(func.count()).select_from(Notification)) == 2


def test_a_quote_reaches_the_submitter_and_the_organisations_admins_not_another_tenant(
    api: Api, settings: Settings
) -> None:
    publish(settings, "consulting.case.quoted", submitted_by="user:bob")
    assert [n["audience"] for n in items(api, "bob")] == ["submitter"]
    assert [n["audience"] for n in items(api, "alice")] == ["org_admins"]
    assert items(api, "alice")[0]["title"] == "Quote received"
    for other in ("carol", "dave", "desk", "lawyer"):
        assert items(api, other) == [], other


def test_the_desk_sees_desk_notices_park_wide_and_a_park_admin_does_not(api: Api, settings: Settings) -> None:
    publish(settings, "consulting.case.submitted")
    [notice] = items(api, "desk")
    assert notice["audience"] == "desk" and notice["title"] == "New case"
    for other in ("admin", "alice", "bob", "lawyer"):
        assert items(api, other) == [], other


def test_the_firm_on_a_case_hears_of_it_and_another_partner_does_not(api: Api, settings: Settings) -> None:
    publish(settings, "consulting.case.assigned")
    assert [n["audience"] for n in items(api, "lawyer")] == ["assigned_firm"]
    assert [n["audience"] for n in items(api, "alice")] == ["submitter"]
    assert items(api, "bank") == [] and items(api, "bob") == []


def test_an_offer_accepted_is_the_accepted_partners_not_the_other_banks(api: Api, settings: Settings) -> None:
    publish(settings, "finance.application.offer_accepted")
    assert [n["title"] for n in items(api, "bank")] == ["Offer accepted"]
    assert items(api, "bank2") == []
    assert [n["audience"] for n in items(api, "desk")] == ["desk"]


def test_a_valuation_outcome_reaches_the_tenants_admins_and_the_desk(api: Api, settings: Settings) -> None:
    publish(settings, "consulting.valuation.completed")
    publish(settings, "consulting.valuation.failed", failure="cancelled")
    publish(settings, "consulting.valuation.opened")
    alice = items(api, "alice")
    assert [n["title"] for n in alice] == ["Valuation failed", "Valuation completed"]
    assert "1200000.00 CNY" in alice[1]["body"] and "C-2026-0042" in alice[1]["body"]
    assert "the case was cancelled" in alice[0]["body"]
    assert {n["kind"] for n in alice} == {"application"}
    assert len(items(api, "desk")) == 2
    assert items(api, "bob") == [] and items(api, "lawyer") == [] and items(api, "carol") == []


def test_events_that_concern_nobody_make_no_notification(api: Api, settings: Settings, db: Database) -> None:
    for type in ("booking.room_hold.requested", "booking.room_hold.released", "booking.reservation.checked_in"):
        publish(settings, type, orgid=ORG_A)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 0


# Language ----------------------------------------------------------------------------------------


def test_texts_are_in_the_readers_language(api: Api, settings: Settings) -> None:
    publish(settings, "booking.reservation.confirmed", title="Board meeting")
    [zh] = items(api, "alice", **{"Accept-Language": "zh-CN"})
    [en] = items(api, "alice", **{"Accept-Language": "en"})
    assert en["title"] == "Booking confirmed"
    assert zh["title"] == "预订已确认"
    assert "Board meeting" in zh["body"] and zh["body"] != en["body"]
    assert "A-101会议室" in zh["body"] and "Room A-101" not in zh["body"]  # the space's Chinese name
    assert "Room A-101" in en["body"]


# Unread and read ---------------------------------------------------------------------------------


def test_read_state_is_each_readers_own_for_a_notice_to_the_whole_firm(api: Api, settings: Settings) -> None:
    with_users(api, lawyer2=User("user:lawyer2", LAW, "law_firm", ("partner_agent",), "Lin Hu"))
    publish(settings, "consulting.case.assigned")
    [notice] = items(api, "lawyer")
    assert [n["id"] for n in items(api, "lawyer2")] == [notice["id"]]
    assert unread(api, "lawyer") == 1 and unread(api, "lawyer2") == 1

    answer = api.post(f"/notifications/{notice['id']}/read", user="lawyer")
    assert answer.status_code == 200, answer.json
    assert answer.json["read"] is True and answer.json["id"] == notice["id"]
    assert unread(api, "lawyer") == 0
    assert unread(api, "lawyer2") == 1
    assert items(api, "lawyer2")[0]["read"] is False
    assert items(api, "lawyer")[0]["read"] is True


def test_reading_twice_is_fine_and_keeps_the_first_time(api: Api, settings: Settings, db: Database) -> None:
    publish(settings, "booking.reservation.confirmed")
    [notice] = items(api, "alice")
    first = api.post(f"/notifications/{notice['id']}/read", user="alice")
    again = api.post(f"/notifications/{notice['id']}/read", user="alice")
    assert first.status_code == again.status_code == 200
    assert first.json["read_at"] == again.json["read_at"] is not None
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(NotificationRead)) == 1


def test_unread_filter_kind_filter_and_newest_first(api: Api, settings: Settings) -> None:
    base = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    for minutes, type in enumerate(
        ("booking.reservation.requested", "consulting.case.quoted", "booking.reservation.confirmed")
    ):
        sent = replace(event(type, sample(type)), time=base + timedelta(minutes=minutes))
        assert deliver(settings, sent) is Outcome.HANDLED
    feed_ = items(api, "alice")
    assert [n["event_type"] for n in feed_] == [
        "booking.reservation.confirmed",
        "consulting.case.quoted",
        "booking.reservation.requested",
    ]
    assert api.post(f"/notifications/{feed_[0]['id']}/read", user="alice").status_code == 200
    assert [n["event_type"] for n in items(api, "alice", "?unread=true")] == [
        "consulting.case.quoted",
        "booking.reservation.requested",
    ]
    assert [n["kind"] for n in items(api, "alice", "?kind=booking")] == ["booking", "booking"]
    page = api.get("/notifications?page=2&page_size=1", user="alice").json
    assert page["total"] == 3 and page["page"] == 2 and page["unread"] == 2
    assert [n["event_type"] for n in page["items"]] == ["consulting.case.quoted"]


def test_read_all_marks_the_callers_feed_only(api: Api, settings: Settings) -> None:
    publish(settings, "consulting.case.quoted", submitted_by="user:bob")
    publish(settings, "booking.reservation.confirmed")
    assert unread(api, "alice") == 2 and unread(api, "bob") == 1
    answer = api.post("/notifications/read-all", user="alice")
    assert answer.status_code == 200 and answer.json == {"marked": 2, "unread": 0}
    assert unread(api, "alice") == 0 and unread(api, "bob") == 1
    assert api.post("/notifications/read-all", user="alice").json == {"marked": 0, "unread": 0}


# Preferences -------------------------------------------------------------------------------------


def turn_off(db: Database, subject: str, kind: str) -> None:
    with db.unit_of_work() as uow:
        uow.session.add(Preference(subject=subject, kind=kind, in_app=False, email=True, updated_at=datetime.now(UTC)))
        uow.commit()


def test_a_kind_turned_off_in_the_app_leaves_the_feed_for_that_person_only(
    api: Api, settings: Settings, db: Database
) -> None:
    turn_off(db, "user:alice", "quote")
    publish(settings, "consulting.case.quoted", submitted_by="user:bob")
    publish(settings, "booking.reservation.confirmed")
    assert [n["kind"] for n in items(api, "alice")] == ["booking"]
    assert unread(api, "alice") == 1
    assert [n["kind"] for n in items(api, "bob")] == ["quote"]
    # the notification is still made (an e-mail follows the e-mail preference, not the feed's)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 3


# Twice -------------------------------------------------------------------------------------------


def test_an_event_delivered_twice_makes_one_notification(api: Api, settings: Settings, db: Database) -> None:
    sent = publish(settings, "consulting.case.quoted", submitted_by="user:bob")
    assert deliver(settings, sent) is Outcome.DUPLICATE
    assert len(items(api, "alice")) == 1 and len(items(api, "bob")) == 1


def test_the_same_event_handled_twice_past_the_inbox_makes_one_notification(db: Database) -> None:
    sent = event("consulting.case.quoted", sample("consulting.case.quoted", submitted_by="user:bob"))
    with db.unit_of_work() as uow:
        made = feed.notify(sent, uow=uow)
        uow.commit()
    assert sorted(n.audience for n in made) == ["org_admins", "submitter"]
    assert {n.title_en for n in made} == {"Quote received"}
    assert all(n.title_zh and n.body_zh for n in made)
    with db.unit_of_work() as uow:
        assert feed.notify(sent, uow=uow) == []
        uow.commit()
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 2


def test_a_duplicate_inserted_between_check_and_insert_does_not_fail_the_handler(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = event("booking.reservation.confirmed", sample("booking.reservation.confirmed"))
    with db.unit_of_work() as uow:
        assert len(feed.notify(sent, uow=uow)) == 1
        uow.commit()
    with db.unit_of_work() as uow:
        # as if a concurrent transaction inserted it after this one checked: the check sees nothing
        monkeypatch.setattr(uow.session, "scalars", lambda *args, **kwargs: iter(()))
        assert feed.notify(sent, uow=uow) == []
        monkeypatch.undo()
        uow.session.execute(select(func.count()).select_from(Notification))  # the transaction goes on
        uow.commit()
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 1


# Bad requests ------------------------------------------------------------------------------------


def test_another_readers_notification_is_not_found(api: Api, settings: Settings) -> None:
    publish(settings, "booking.reservation.confirmed")
    [notice] = items(api, "alice")
    for user in ("bob", "carol", "desk"):
        answer = api.post(f"/notifications/{notice['id']}/read", user=user)
        assert answer.status_code == 404 and answer.mimetype == PROBLEM, user
    assert unread(api, "alice") == 1


def test_bad_ids_are_not_found_problems(api: Api) -> None:
    for path in (f"/notifications/{uuid.uuid4()}/read", "/notifications/not-an-id/read"):
        answer = api.post(path, user="alice")
        assert answer.status_code == 404 and answer.mimetype == PROBLEM, path


def test_pagination_out_of_bounds_and_bad_filters_are_refused(api: Api) -> None:
    for query in ("?page=0", "?page_size=0", "?page_size=201", "?kind=gossip", "?unread=perhaps"):
        answer = api.get(f"/notifications{query}", user="alice")
        assert answer.status_code == 422 and answer.mimetype == PROBLEM, query
    answer = api.get("/notifications?per_page=5", user="alice")
    assert answer.status_code == 400 and answer.mimetype == PROBLEM


def test_the_feed_needs_a_token(api: Api) -> None:
    for answer in (
        api.get("/notifications", user=None),
        api.get("/notifications/unread-count", user=None),
        api.post("/notifications/read-all", user=None),
    ):
        assert answer.status_code == 401 and answer.mimetype == PROBLEM


def test_another_organisations_member_sees_nothing_of_org_a(api: Api, settings: Settings) -> None:
    publish(settings, "finance.application.disbursed")
    assert [n["audience"] for n in items(api, "alice")] == ["applicant"]
    publish(settings, "finance.application.disbursed", org_id=ORG_B, applicant="user:dave")
    assert [n["audience"] for n in items(api, "dave")] == ["applicant"]
    assert [n["audience"] for n in items(api, "carol")] == ["org_admins"]
    assert len(items(api, "alice")) == 1


def test_a_page_of_the_feed_reads_as_many_statements_for_one_notice_as_for_many(
    api: Api, settings: Settings, db: Database
) -> None:
    def statements(path: str) -> int:
        seen: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        sa_event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert api.get(path, user="alice").status_code == 200
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    publish(settings, "booking.reservation.confirmed")
    statements("/notifications")  # warm up
    one, count_one = statements("/notifications"), statements("/notifications/unread-count")
    assert one >= 3 and count_one >= 1  # the page, its total and the unread count; the count alone
    for _ in range(8):
        publish(settings, "consulting.case.quoted")
    assert len(items(api, "alice")) == 9
    assert statements("/notifications") == one
    assert statements("/notifications/unread-count") == count_one
