"""E-mail end to end against a real SMTP server (aiosmtpd in the test process): an event handed to
notify's inbox, the worker's e-mail job run, and what the server received."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.notify.handlers.mail import send_due, sender
from services.notify.models import Email, Person, Preference
from shared.bus.inbox import Outcome
from shared.clock import as_utc, utcnow
from shared.db import Database
from shared.settings import Settings
from tests.notify.conftest import deliver, event
from tests.notify.samples import ORG_A, sample
from tests.notify.smtp_rig import SmtpServer, run_mail_job, smtp
from tests.ports import free_port

__all__ = ["smtp"]

QUOTED = "consulting.case.quoted"


@pytest.fixture
def settings(settings: Settings, smtp: SmtpServer) -> Settings:
    """The rig's settings with e-mail pointed at the test's SMTP server: the worker's job is given
    its process's settings (these), never the environment."""
    return replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_timeout_seconds=3.0,
        smtp_from="Tianfu Park <noreply@tianfu-park.cn>",
    )


def quoted() -> Any:
    return event(QUOTED, sample(QUOTED), orgid=ORG_A)


def emails(db: Database) -> list[Email]:
    with db.reading() as session:
        rows = list(session.scalars(select(Email).order_by(Email.created_at, Email.id)))
        session.expunge_all()
        return rows


def set_language(db: Database, subject: str, language: str | None) -> None:
    with db.unit_of_work() as uow:
        person = uow.session.get(Person, subject)
        assert person is not None
        person.language = language
        uow.commit()


def test_a_quote_reaches_alice_once_in_chinese_by_default(settings: Settings, db: Database, smtp: SmtpServer) -> None:
    deliver(settings, quoted())  # alice submitted the case and administers ORG_A: one e-mail all the same
    assert smtp.inbox.messages == []  # the consumer sends nothing
    assert run_mail_job(settings) == 1
    (message,) = smtp.inbox.to("alice@example.cn")
    assert len(smtp.inbox.messages) == 1
    assert "收到服务报价" in message["Subject"]
    assert message["From"] == "Tianfu Park <noreply@tianfu-park.cn>"
    assert message["Content-Language"] == "zh-CN"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "Alice Wang" in text.get_content() and "8000.00" in text.get_content()
    assert '<html lang="zh-CN">' in html.get_content()
    (row,) = emails(db)
    assert (row.status, row.attempts, row.to_subject, row.language) == ("sent", 1, "user:alice", "zh")
    assert run_mail_job(settings) == 0  # sent once


def test_a_person_who_chose_english_reads_english(settings: Settings, db: Database, smtp: SmtpServer) -> None:
    set_language(db, "user:alice", "en")
    deliver(settings, quoted())
    run_mail_job(settings)
    (message,) = smtp.inbox.to("alice@example.cn")
    assert "Quote received" in message["Subject"]
    assert "收到" not in message["Subject"]
    assert message["Content-Language"] == "en"


def test_who_turned_quote_emails_off_gets_none(settings: Settings, db: Database, smtp: SmtpServer) -> None:
    with db.unit_of_work() as uow:
        uow.session.add(Preference(subject="user:alice", kind="quote", in_app=True, email=False, updated_at=utcnow()))
        uow.commit()
    deliver(settings, quoted())
    assert run_mail_job(settings) == 0
    assert smtp.inbox.messages == []
    assert emails(db) == []
    # Another kind still reaches her.
    deliver(settings, event("booking.reservation.confirmed", sample("booking.reservation.confirmed"), orgid=ORG_A))
    assert run_mail_job(settings) == 1
    assert len(smtp.inbox.to("alice@example.cn")) == 1


def test_an_event_delivered_twice_makes_one_email(settings: Settings, db: Database, smtp: SmtpServer) -> None:
    same = quoted()
    deliver(settings, same)
    deliver(settings, same)
    run_mail_job(settings)
    run_mail_job(settings)
    assert len(smtp.inbox.messages) == 1
    assert len(emails(db)) == 1


def test_a_group_notice_reaches_each_member_with_an_address(settings: Settings, db: Database, smtp: SmtpServer) -> None:
    # requested: the booker and every desk_staff park-wide; bob (no address now) and the others not.
    with db.unit_of_work() as uow:
        desk = uow.session.get(Person, "user:desk")
        assert desk is not None
        desk.language = "en"
        uow.commit()
    deliver(settings, event("booking.reservation.requested", sample("booking.reservation.requested"), orgid=ORG_A))
    assert run_mail_job(settings) == 2
    assert sorted(rcpt for rcpts, _ in smtp.inbox.messages for rcpt in rcpts) == [
        "alice@example.cn",
        "desk@example.cn",
    ]
    (to_desk,) = smtp.inbox.to("desk@example.cn")
    assert to_desk["Content-Language"] == "en"


def test_a_dead_server_leaves_the_email_pending_with_its_error_until_it_is_back(
    settings: Settings, db: Database, smtp: SmtpServer
) -> None:
    smtp.stop()  # the port is closed: connections are refused
    deliver(settings, quoted())
    before = utcnow()
    assert run_mail_job(settings) == 0
    (row,) = emails(db)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error and "Connection" in row.last_error
    assert as_utc(row.next_attempt_at) >= before + timedelta(minutes=1)
    assert run_mail_job(settings) == 0  # not due yet: not tried again
    assert emails(db)[0].attempts == 1

    smtp.start()
    assert send_due.run(db, settings, now=utcnow() + timedelta(minutes=1, seconds=1)) == 1  # a minute later
    (row,) = emails(db)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(smtp.inbox.to("alice@example.cn")) == 1


def test_retries_back_off_then_fail(settings: Settings, db: Database, smtp: SmtpServer) -> None:
    smtp.stop()
    deliver(settings, quoted())
    waits = []
    now = utcnow()
    for _ in range(5):
        send_due.run(db, settings, now=now)
        (row,) = emails(db)
        if row.status == "failed":
            break
        waits.append(round((as_utc(row.next_attempt_at) - now).total_seconds() / 60))
        now = as_utc(row.next_attempt_at)
    assert waits == [1, 5, 30, 120]
    (row,) = emails(db)
    assert (row.status, row.attempts) == ("failed", 5)


def test_a_slow_server_never_holds_the_job_past_its_bound(settings: Settings, db: Database, smtp: SmtpServer) -> None:
    smtp.inbox.delay = 3.0  # answers DATA long after the 0.5 s timeout
    for _ in range(4):
        deliver(settings, quoted())  # four events: four e-mails to alice
    assert len(emails(db)) == 4
    started = time.monotonic()
    sent = sender(budget_seconds=1.0).run(db, _env_settings(settings, smtp_timeout_seconds=0.5))
    elapsed = time.monotonic() - started
    assert sent == 0
    assert elapsed < 2.0  # not 4 x (0.5 s or 3 s)
    rows = emails(db)
    tried = [row for row in rows if row.attempts]
    assert len(tried) == 1 and "timed out" in (tried[0].last_error or "")
    assert all(row.status == "pending" for row in rows)


def test_with_email_off_the_job_sends_nothing_and_skips_what_is_due(settings: Settings, db: Database) -> None:
    port = free_port()
    deliver(settings, quoted())
    off = _env_settings(settings, smtp_host=None, smtp_port=port)
    assert send_due.run(db, off) == 0
    (row,) = emails(db)
    assert row.status == "skipped"


def _env_settings(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)


# aiosmtpd warns that AUTH without TLS is unsafe: true, and this test server is on loopback only.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_a_server_that_needs_a_login_gets_the_configured_one(settings: Settings, db: Database) -> None:
    server = SmtpServer(free_port(), login=("parkhub", "s3cret"))
    server.start()
    try:
        deliver(settings, quoted())
        base = _env_settings(settings, smtp_host="127.0.0.1", smtp_port=server.port, smtp_timeout_seconds=3.0)
        assert send_due.run(db, base) == 0  # without a login: refused, kept for a retry
        (row,) = emails(db)
        assert row.status == "pending" and "SMTP" in (row.last_error or "")
        logged_in = _env_settings(base, smtp_username="parkhub", smtp_password="s3cret")
        assert send_due.run(db, logged_in, now=utcnow() + timedelta(minutes=2)) == 1
        assert len(server.inbox.to("alice@example.cn")) == 1
    finally:
        server.stop()


def _leased(db: Database) -> bool:
    """Whether the job has claimed (leased) every pending e-mail: it is sending them now."""
    later = utcnow() + timedelta(minutes=1)
    return all(as_utc(row.next_attempt_at) > later for row in emails(db) if row.status == "pending")


def test_while_a_slow_server_is_waited_on_notify_handles_events(
    settings: Settings, db: Database, smtp: SmtpServer
) -> None:
    """The e-mail job sends with no transaction open: on SQLite, notify's write lock is free, so the
    inbox handles an event (and writes its notification and e-mail) while the server takes its time."""
    smtp.inbox.delay = 2.0
    deliver(settings, quoted())
    job = threading.Thread(target=run_mail_job, args=(settings,))
    job.start()
    try:
        deadline = time.monotonic() + 5.0
        while not _leased(db):
            assert time.monotonic() < deadline, "the job never claimed the e-mail"
            time.sleep(0.01)
        started = time.monotonic()
        assert deliver(settings, quoted()) is Outcome.HANDLED
        assert time.monotonic() - started < 1.5
        assert job.is_alive() and smtp.inbox.messages == []  # the server is still answering
    finally:
        job.join(10.0)
    assert len(smtp.inbox.messages) == 1
    assert sorted(row.status for row in emails(db)) == ["pending", "sent"]  # the new one: at the next run
