"""Two breach jobs at the same moment on PostgreSQL (two workers): every warning and breach is
published once, the case escalates once per missed target. Each run is its own transaction on
its own connection; the notice row's ``ON CONFLICT DO NOTHING`` makes the later one wait for the
first's commit and then insert (and publish) nothing."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from migrations import upgrade
from services.consulting.handlers.sla import detect_breaches
from services.consulting.models import Case, CaseTransition, SlaNotice
from services.consulting.models import database as consulting_database
from shared.db import Database
from tests.conftest import make_settings
from tests.consulting.conftest import load_catalogue, outbox, register_organisations
from tests.consulting.test_sla import new_case, park
from tests.servers import PostgresDatabases

pytestmark = pytest.mark.postgres

CASES = 40


@pytest.fixture
def pg(tmp_path: Path, postgres_databases: PostgresDatabases) -> Iterator[Database]:
    """Consulting's database on this machine's PostgreSQL, built by the migrations, with the
    test organisations and catalogue."""
    url = postgres_databases.new_set().format(name="consulting")
    upgrade("consulting", url)
    settings = make_settings(tmp_path / "var", PARKHUB_DB_CONSULTING=url)
    database = consulting_database(settings)
    assert database.engine.dialect.name == "postgresql"
    register_organisations(database)
    load_catalogue(database)
    yield database


def test_two_jobs_at_the_same_moment_publish_each_notice_once(pg):
    cases = [new_case(pg, park("2026-11-16 09:00"), priority="high") for _ in range(CASES)]
    now = park("2026-11-16 11:40")  # 160 minutes: the first response (120) missed
    start = threading.Barrier(2)

    def job() -> int:
        with pg.unit_of_work() as uow:
            start.wait()
            done = detect_breaches(uow=uow, now=now)
            uow.commit()
        return done

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: job(), range(2)))

    assert sum(results) == CASES, results
    events = [e for e in outbox(pg) if e["type"] == "consulting.case.sla_breached"]
    assert Counter(e["data"]["case_id"] for e in events) == Counter(cases)
    with pg.reading() as session:
        assert session.execute(select(SlaNotice)).scalars().all().__len__() == CASES
        priorities = Counter(session.execute(select(Case.priority)).scalars())
        assert priorities == Counter({"urgent": CASES})
        escalations = session.execute(select(CaseTransition).where(CaseTransition.action == "escalate")).scalars()
        assert Counter(line.case_id for line in escalations) == Counter(cases)
