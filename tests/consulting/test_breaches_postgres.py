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
from typing import Any

import pytest
from sqlalchemy import select

from migrations import upgrade
from services.consulting.handlers import sla as sla_handlers
from services.consulting.handlers.sla import detect_breaches
from services.consulting.models import Case, CaseTransition, SlaNotice
from services.consulting.models import database as consulting_database
from services.consulting.queries import sla as sla_queries
from shared.db import Database
from tests.conftest import make_settings
from tests.consulting.conftest import load_catalogue, outbox, register_organisations
from tests.consulting.test_breaches import run
from tests.consulting.test_sla import move, new_case, park
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


def test_a_request_committing_while_the_job_reads_does_not_undo_the_run(pg, monkeypatch):
    """A desk triage of one case commits after the job read its batch and before it escalates:
    the job escalates the case as it now is (its first response met: nothing to do) and the
    other case's breach is committed with its notice and event."""
    busy = new_case(pg, park("2026-11-16 09:00"), priority="normal")
    other = new_case(pg, park("2026-11-16 09:00"), priority="normal")
    real = sla_queries.pauses_of
    requests: list[str] = []

    def pauses_then_a_request(session: Any, case_ids: Any) -> Any:
        if not requests:
            requests.append(busy)
            move(pg, busy, "triage", "triaged", park("2026-11-16 10:00"))
        return real(session, case_ids)

    monkeypatch.setattr(sla_handlers, "pauses_of", pauses_then_a_request)
    assert run(pg, park("2026-11-17 09:00")) == 1
    assert requests == [busy]
    breached = [e["data"]["case_id"] for e in outbox(pg) if e["type"] == "consulting.case.sla_breached"]
    assert breached == [other]
    with pg.reading() as session:
        assert [n.clock_id for n in session.execute(select(SlaNotice)).scalars()].__len__() == 1
        assert session.get(Case, busy).status == "triaged"
        assert session.get(Case, other).priority == "high"


def test_a_case_a_request_holds_waits_for_the_next_run(pg):
    """A request holding a case's row (its transaction open) does not stall the job: the job
    skips the case (``SKIP LOCKED``) and escalates the others; the next run takes it."""
    held = new_case(pg, park("2026-11-16 09:00"), priority="normal")
    free = new_case(pg, park("2026-11-16 09:00"), priority="normal")
    with pg.unit_of_work() as request, ThreadPoolExecutor(max_workers=1) as pool:
        case = request.session.get(Case, held, with_for_update=True)
        assert case is not None
        job = pool.submit(run, pg, park("2026-11-17 09:00"))
        try:
            assert job.result(timeout=20) == 1  # a job waiting for the request fails here
        finally:
            request.commit()
    assert [e["data"]["case_id"] for e in outbox(pg) if e["type"] == "consulting.case.sla_breached"] == [free]
    assert run(pg, park("2026-11-17 09:05")) == 1
    breached = [e["data"]["case_id"] for e in outbox(pg) if e["type"] == "consulting.case.sla_breached"]
    assert sorted(breached) == sorted([free, held])
