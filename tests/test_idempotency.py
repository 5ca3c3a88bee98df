"""``Idempotency-Key`` as a client meets it (docs/API.md, "Retrying safely"), one behaviour per mode:

- a key needs a caller: without a token it is a 401 before any transaction, and nothing is claimed;
- a replay is the first answer, in the first answer's language (``Content-Language`` too);
- PostgreSQL: a duplicate sent while the first request still runs is a 409 at once, and one sent
  after the first committed replays it (the first request is really in flight: the test holds a
  lock its insert needs);
- SQLite: writers are serialised, so a duplicate sent while the first runs waits and replays.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.views import MethodView
from sqlalchemy import create_engine, event, select, text

from services.booking.models import database as booking_database
from services.booking.seed import seed as seed_booking
from shared.db import Database
from shared.http.app import create_service_app
from shared.http.auth import requires
from shared.http.blueprint import Blueprint
from shared.http.idempotency import idempotent
from shared.settings import Settings
from tests.booking import factories
from tests.booking.conftest import USERS, at, booking_on_postgres, mint, park_day, write_jwks
from tests.park import Park
from tests.servers import PostgresDatabases

RESERVATIONS = "/api/v1/booking/reservations"
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def a_room(park: Park) -> str:
    seed_booking(park.platform.settings)  # the demo's spaces
    listed = park.as_user("alice", "GET", "/api/v1/booking/spaces?kind=conference_room")
    assert listed.status_code == 200, listed.get_data(as_text=True)
    return str(listed.json["items"][0]["id"])


def booking(space_id: str, days_ahead: int = 3, start: str = "10:00", end: str = "11:00") -> dict[str, Any]:
    day = park_day(days_ahead)
    return {
        "space_id": space_id,
        "start": at(day, start).isoformat(),
        "end": at(day, end).isoformat(),
        "title": "Board",
        "attendees": 4,
    }


def claims(park: Park, service: str) -> list[tuple[str, str]]:
    engine = create_engine(park.platform.settings.database_url(service))
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text("SELECT principal, key FROM idempotency_keys"))]
    finally:
        engine.dispose()


# A key needs a caller ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "path"), [("booking", RESERVATIONS), ("gateway", "/api/v1/organisations")], ids=["booking", "gateway"]
)
def test_a_key_without_a_token_is_a_401_and_claims_nothing(park: Park, service: str, path: str) -> None:
    for body in ({}, {"name": "Nobody Ltd", "kind": "tenant"}):
        response = park.client.post(path, json=body, headers={"Idempotency-Key": "anonymous-1", **ZH})
        assert response.status_code == 401, response.get_data(as_text=True)
        assert response.content_type == "application/problem+json"
        assert response.json["title"] == "未登录"
    assert claims(park, service) == []


# A replay is the first answer, in its language ---------------------------------------------------------


def test_a_replay_keeps_the_first_answers_language(park: Park) -> None:
    body = booking(a_room(park))
    first = park.as_user("alice", "POST", RESERVATIONS, json=body, headers={"Idempotency-Key": "lang-1", **ZH})
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.headers["Content-Language"] == "zh-CN"
    again = park.as_user(
        "alice", "POST", RESERVATIONS, json=body, headers={"Idempotency-Key": "lang-1", "Accept-Language": "en"}
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == first.get_data()  # the Chinese labels of the first answer …
    assert again.headers["Content-Language"] == "zh-CN"  # … and the language that says so
    assert again.headers["Location"] == first.headers["Location"]
    assert "Accept-Language" in again.headers["Vary"]


# PostgreSQL: a duplicate in flight is a 409 at once; after the first committed, a replay ----------------


@pytest.fixture
def pg(
    tmp_path: Path, postgres_databases: PostgresDatabases, key: rsa.RSAPrivateKey
) -> Iterator[tuple[Flask, Database, Settings]]:
    yield from booking_on_postgres(tmp_path, postgres_databases, key)


def _wait_for_a_lock_wait(engine: Any) -> None:
    """Until some session of this database waits for a lock (bounded: 20 s)."""
    deadline = time.monotonic() + 20
    with engine.connect() as probe:
        while time.monotonic() < deadline:
            query = (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if probe.execute(text(query)).scalar_one():
                return
            probe.rollback()
            time.sleep(0.02)
    raise AssertionError("the first request never waited for the lock the test holds")


@pytest.mark.postgres
def test_postgres_a_duplicate_in_flight_is_a_409_at_once_and_one_after_replays(
    pg: tuple[Flask, Database, Settings], key: rsa.RSAPrivateKey
) -> None:
    app, database, settings = pg
    space = factories.SpaceFactory()
    raw = json.dumps(booking(space.id)).encode()
    token = mint(settings, key, USERS["alice"])
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Idempotency-Key": "pg-in-flight",
    }

    def send() -> Any:
        return app.test_client().post(RESERVATIONS, data=raw, headers=headers)

    engine = create_engine(database.url)
    holder = engine.connect()
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            # The first request claims its key, then waits for the reservations table the test holds.
            holder.execute(text("LOCK TABLE reservations IN EXCLUSIVE MODE"))
            first = pool.submit(send)
            _wait_for_a_lock_wait(engine)
            started = time.monotonic()
            duplicate = pool.submit(send)
            try:
                refused = duplicate.result(timeout=10)
            except FutureTimeout:
                raise AssertionError("the duplicate waited for the first request instead of answering") from None
            finally:
                holder.rollback()  # the first request goes on
            assert refused.status_code == 409, refused.get_data(as_text=True)
            assert refused.json["type"].endswith("/idempotency-in-progress")
            assert time.monotonic() - started < 5
            created = first.result(timeout=30)
        assert created.status_code == 201, created.get_data(as_text=True)
        replayed = send()
        assert replayed.status_code == 201
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.get_data() == created.get_data()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM reservations")).scalar_one() == 1
            assert connection.execute(text("SELECT count(*) FROM idempotency_keys")).scalar_one() == 1
    finally:
        holder.close()
        engine.dispose()


# SQLite: the duplicate waits for the first and replays it ---------------------------------------------


def test_sqlite_a_duplicate_in_flight_waits_and_replays(settings: Settings, key: rsa.RSAPrivateKey) -> None:
    """A test-only view that waits until the test lets it go: the duplicate is sent while the
    first request holds the database's write lock, and answers only once the first committed."""
    write_jwks(settings, key)
    database = booking_database(settings)
    inside = threading.Event()
    go_on = threading.Event()
    blp = Blueprint("slow", __name__)

    @blp.route("/slow")
    class Slow(MethodView):
        @requires()
        @idempotent()
        def post(self) -> Any:
            if not inside.is_set():
                inside.set()
                assert go_on.wait(timeout=30)
            return {"made_at": time.monotonic_ns()}, 201

    app = create_service_app(
        "slow",
        settings=settings,
        database=database,
        inbox=None,
        blueprints=[blp],
        title="Slow",
        description="",
        ops=False,
    )
    begun = threading.Semaphore(0)
    # A request checks its connection out right before its BEGIN IMMEDIATE.
    event.listen(database.engine.pool, "checkout", lambda *_args: begun.release())
    headers = {"Authorization": f"Bearer {mint(settings, key, USERS['alice'])}", "Idempotency-Key": "sqlite-in-flight"}

    def send() -> Any:
        return app.test_client().post("/api/v1/slow/slow", headers=headers)

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(send)
        assert inside.wait(timeout=20)  # the first holds its transaction (BEGIN IMMEDIATE) in the view
        while begun.acquire(blocking=False):
            pass
        duplicate = pool.submit(send)
        assert begun.acquire(timeout=20)  # the duplicate is beginning its transaction, while the first holds the lock
        go_on.set()
        made = first.result(timeout=30)
        replayed = duplicate.result(timeout=30)
    assert made.status_code == replayed.status_code == 201
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json == made.json
    with database.reading() as session:
        assert len(session.execute(select(database.messaging.idempotency_keys)).all()) == 1
