"""E-mail on PostgreSQL, where two workers really run at once: each due e-mail is taken by one of
them (``FOR UPDATE SKIP LOCKED``), so the SMTP server receives every e-mail exactly once."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from migrations import upgrade
from services.notify.handlers.mail import send_due
from services.notify.models import Email
from shared.db import Database
from shared.settings import Settings
from tests.conftest import make_settings
from tests.notify.conftest import deliver, event
from tests.notify.samples import ORG_A, sample
from tests.notify.smtp_rig import SmtpServer, smtp
from tests.servers import PostgresDatabases

__all__ = ["smtp"]

pytestmark = pytest.mark.postgres


@pytest.fixture
def settings(tmp_path: Path, postgres_databases: PostgresDatabases) -> Settings:
    """The notify rig's settings over a fresh PostgreSQL database built by the migrations."""
    url = postgres_databases.new_set().format(name="notify")
    upgrade("notify", url)
    return make_settings(tmp_path / "var", PARKHUB_DB_NOTIFY=url)


def test_two_workers_at_once_send_each_email_once(settings: Settings, db: Database, smtp: SmtpServer) -> None:
    smtp.inbox.delay = 0.1  # so the two runs overlap
    for _ in range(6):
        deliver(settings, event("consulting.case.quoted", sample("consulting.case.quoted"), orgid=ORG_A))
    mail_settings = replace(settings, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_timeout_seconds=5.0)
    start = threading.Barrier(2)
    sent = [0, 0]

    def worker(index: int) -> None:
        start.wait()
        sent[index] = send_due.run(db, mail_settings)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 6, sent  # the first takes the batch; the other skips what it holds
    ids = [message["Message-ID"] for _, message in smtp.inbox.messages]
    assert len(ids) == 6 and len(set(ids)) == 6
    with db.reading() as session:
        assert {e.status for e in session.query(Email)} == {"sent"}
