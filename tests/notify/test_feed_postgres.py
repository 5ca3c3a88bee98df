"""The feed and the timeline on PostgreSQL, where two transactions really overlap: the same event
handled by two at once (past the inbox) makes one notification per recipient and one timeline
line, and neither fails; the feed's one query answers who sees what there too."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from migrations import upgrade
from services.notify.commands.feed import MarkRead
from services.notify.handlers import feed, timeline
from services.notify.handlers.reading import mark_read
from services.notify.models import Notification, TimelineEntry
from services.notify.models import database as notify_database
from services.notify.queries import feed as feed_queries
from shared.db import Database
from shared.events import Event
from shared.principal import Principal
from tests.conftest import make_settings
from tests.notify.conftest import event
from tests.notify.samples import LAW, ORG_A, sample
from tests.servers import PostgresDatabases

pytestmark = pytest.mark.postgres

ALICE = Principal("user:alice", ORG_A, "tenant", frozenset({"tenant_admin"}), "Alice Wang")
BOB = Principal("user:bob", ORG_A, "tenant", frozenset({"tenant_member"}), "Bob Li")
LAWYER = Principal("user:lawyer", LAW, "law_firm", frozenset({"partner_agent"}), "Henry Zhou")
LAWYER2 = Principal("user:lawyer2", LAW, "law_firm", frozenset({"partner_agent"}), "Lin Hu")


@pytest.fixture
def pg(tmp_path: Path, postgres_databases: PostgresDatabases) -> Iterator[Database]:
    url = postgres_databases.new_set().format(name="notify")
    upgrade("notify", url)
    yield notify_database(make_settings(tmp_path / "var", PARKHUB_DB_NOTIFY=url))


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; their answers (or errors)."""
    start = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def run(index: int) -> None:
        start.wait()
        try:
            answers[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the test reports it
            answers[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def handle(database: Database, sent: Event) -> int:
    with database.unit_of_work() as uow:
        made = feed.notify(sent, uow=uow)
        timeline.record(sent, uow=uow)
        uow.commit()
    return len(made)


def test_the_same_event_handled_twice_at_once_is_one_notification_each_and_one_line(pg: Database) -> None:
    sent = event("consulting.case.quoted", sample("consulting.case.quoted", submitted_by="user:bob"))
    answers = at_once(4, lambda _i: handle(pg, sent))
    assert not [a for a in answers if isinstance(a, Exception)], answers
    assert sorted(answers) == [0, 0, 0, 2]
    with pg.reading() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 2
        assert session.scalar(select(func.count()).select_from(TimelineEntry)) == 1


def test_who_sees_what_and_read_state_per_reader(pg: Database) -> None:
    handle(pg, event("consulting.case.assigned", sample("consulting.case.assigned")))
    handle(pg, event("consulting.case.quoted", sample("consulting.case.quoted", submitted_by="user:bob")))
    with pg.reading() as session:
        lawyer = feed_queries.list_notifications(session, LAWYER, {})
        assert [n["audience"] for n in lawyer["items"]] == ["assigned_firm"]
        assert [n["audience"] for n in feed_queries.list_notifications(session, ALICE, {})["items"]] == [
            "org_admins",
            "submitter",
        ]
        assert [n["audience"] for n in feed_queries.list_notifications(session, BOB, {})["items"]] == ["submitter"]
    with pg.unit_of_work() as uow:
        mark_read(MarkRead(LAWYER, lawyer["items"][0]["id"]), uow=uow)
        uow.commit()
    with pg.reading() as session:
        assert feed_queries.unread_count(session, LAWYER) == 0
        assert feed_queries.unread_count(session, LAWYER2) == 1
