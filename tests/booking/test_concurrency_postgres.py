"""No double booking under fire: 60 concurrent creates of one slot through the real HTTP stack
(``parkhub api booking`` under gunicorn, two worker processes) against PostgreSQL. The
exclusion constraint decides: exactly one 201, a 409 problem for every other request."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from migrations import upgrade
from services.booking.models import database as booking_database
from shared.db import forget_databases
from tests.booking import factories
from tests.booking.conftest import USERS, at, mint, park_day, register_organisations, write_jwks
from tests.conftest import make_settings
from tests.ports import free_port
from tests.servers import PostgresDatabases

REQUESTS = 60


@pytest.fixture
def postgres_url(postgres_databases: PostgresDatabases) -> str:
    """A fresh booking database on this machine's PostgreSQL (dropped with the session's)."""
    return postgres_databases.new_set().format(name="booking")


def _parkhub() -> list[str]:
    script = shutil.which("parkhub", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "parkhub_cli"]


def _request(port: int, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else {}
    finally:
        connection.close()


def _wait_until_up(port: int, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"parkhub api booking exited with {process.returncode}")
        try:
            if _request(port, "GET", "/api/v1/booking/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("parkhub api booking did not answer its health check in time")


@pytest.mark.postgres
@pytest.mark.slow
def test_sixty_concurrent_creates_of_one_slot_give_one_201(tmp_path, postgres_url, signing_key):
    upgrade("booking", postgres_url)
    var = tmp_path / "var"
    settings = make_settings(var, PARKHUB_DB_BOOKING=postgres_url)
    write_jwks(settings, signing_key)
    database = booking_database(settings)
    register_organisations(database)
    session = database.session()
    factories.bind(session)
    try:
        space = factories.SpaceFactory(setup_minutes=15, cleanup_minutes=15)
        factories.QuotaRuleFactory(org_id="*", space_kind=space.kind, free_hours_per_month=1)  # quota path too
    finally:
        factories.bind(None)
        session.close()
    forget_databases()

    port = free_port()
    env = {
        **os.environ,
        "PARKHUB_DB_BOOKING": postgres_url,
        "PARKHUB_VAR_DIR": str(var),
        "PARKHUB_ISSUER": settings.issuer,
        "PARKHUB_AUDIENCE": settings.audience,
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [*_parkhub(), "api", "booking", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_up(port, process, time.monotonic() + 60)
        day = park_day(3)
        # Different organisations and people, every one asking for 10:00-11:00 (or a slot
        # overlapping it through the buffers).
        tokens = [mint(settings, signing_key, USERS[name]) for name in ("alice", "bob", "carol", "dave", "desk")]
        starts = ["10:00", "10:30", "09:30", "10:00", "11:00"]
        gate = threading.Barrier(min(REQUESTS, 30))

        def attempt(index: int) -> int:
            start = at(day, starts[index % len(starts)])
            body = {
                "space_id": space.id,
                "start": start.isoformat(),
                "end": at(day, "11:00").isoformat() if start.hour < 11 else at(day, "12:00").isoformat(),
                "title": f"Attempt {index}",
                "attendees": 4,
            }
            if index < 30:
                gate.wait(timeout=30)
            status, answer = _request(port, "POST", "/api/v1/booking/reservations", body, tokens[index % len(tokens)])
            if status == 409:
                # The slot is taken; or PostgreSQL rolled this transaction back for another (a
                # deadlock, seen once on a loaded machine), which the platform answers "try again"
                # (docs/SERVICE.md, the request path, step 5). Either way nothing was booked.
                assert answer["type"].endswith(("rule/no-double-booking", "conflict/concurrent-change")), answer
            return status

        with ThreadPoolExecutor(max_workers=30) as pool:
            statuses = Counter(pool.map(attempt, range(REQUESTS)))
        assert statuses == Counter({201: 1, 409: REQUESTS - 1}), statuses

        engine = create_engine(postgres_url)
        try:
            with engine.connect() as connection:
                held = connection.execute(
                    text("SELECT count(*) FROM reservations WHERE status IN ('pending_approval', 'confirmed')")
                ).scalar_one()
                events = connection.execute(text("SELECT count(*) FROM outbox")).scalar_one()
                quota = connection.execute(text("SELECT sum(quota_minutes) FROM reservations")).scalar_one()
        finally:
            engine.dispose()
        assert (held, events) == (1, 1)
        assert quota in (0, 30, 60)  # the winner's minutes from the free hour (staff: none; 10:30-11:00: 30)
    finally:
        process.terminate()  # SIGTERM to the gunicorn master (our pid); it stops its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
