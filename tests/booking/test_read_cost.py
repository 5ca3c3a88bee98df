"""What booking's two hottest reads cost, counted through real HTTP (the app's request path): an
availability search and one reservation by id verify the token once, check out one pooled
connection, and run a fixed, small number of statements whatever the data; on PostgreSQL they
run outside a transaction (no BEGIN, no ROLLBACK) and a pooled connection in use a moment ago is
not pinged, while one that rested is, and a dead one is replaced (shared/db.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, text

import shared.db
from shared.db import Database
from tests.booking import factories
from tests.booking.conftest import USERS, at, booking_on_postgres, mint, park_day
from tests.booking.factories import ClosureFactory, ReservationFactory, SpaceFactory
from tests.booking.test_request_cost import cost, hold_revocations  # noqa: F401 - cost: the fixture
from tests.servers import PostgresDatabases

SEARCH_STATEMENTS = 4
"""The candidate spaces (id and version: their rules come from the profile cache), the holds of
all of them in one query, their closures in one, the park's special days in one. Before the second
pass of issue 12 the same: the search's cost was its round trips around them (docs/PERFORMANCE.md)."""


def _search(api: Any, days_ahead: int = 3) -> Any:
    day = park_day(days_ahead)
    start, end = at(day, "10:00"), at(day, "11:00")
    return api.get("/availability", query_string={"start": start.isoformat(), "end": end.isoformat()})


def test_a_search_costs_the_same_few_statements_whatever_it_finds(api, db, slot, cost):  # noqa: F811 - the imported fixture
    spaces = [SpaceFactory(code=f"R-{n}") for n in range(6)]
    _search(api)  # the profile cache learns the spaces' versions: a known version decodes nothing
    for space in spaces[:4]:
        start, end = slot(3, "10:00", "10:30")
        ReservationFactory(space=space, start=start, minutes=30)
        ClosureFactory(space_id=space.id, starts_at=end, ends_at=end + (end - start))
    cost.counts.clear()
    cost.statements.clear()

    response = _search(api)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["total"] == 2  # the hour of the other four is held, then closed
    assert cost["jwt"] == 1
    assert (cost["transactions"], cost["checkouts"]) == (1, 1)
    read = [sql for sql in cost.statements if sql != "BEGIN"]
    assert len(read) <= SEARCH_STATEMENTS, "\n".join(read)


def test_a_reservation_by_id_is_two_statements(api, db, slot, cost):  # noqa: F811 - the imported fixture
    space = SpaceFactory()
    start, end = slot(3, "10:00", "11:00")
    created = api.post(
        "/reservations",
        {"space_id": space.id, "start": start.isoformat(), "end": end.isoformat(), "title": "Board", "attendees": 4},
    )
    assert created.status_code == 201, created.get_json()
    cost.counts.clear()
    cost.statements.clear()

    response = api.get(f"/reservations/{created.json['id']}")

    assert response.status_code == 200
    assert response.json["organisation"]["name"]  # the directory's name, joined into the first statement
    assert cost["jwt"] == 1
    assert (cost["transactions"], cost["checkouts"]) == (1, 1)
    # The reservation with its space and its organisation's name joined, then its visitors (the
    # relationship's selectin load); before, the organisation's name was a third statement.
    # (SQLite's BEGIN is a statement of its own; on PostgreSQL a read has none: below.)
    read = [sql for sql in cost.statements if sql != "BEGIN"]
    assert len(read) == 2, "\n".join(read)
    assert cost["directory reads"] == 1
    assert api.get("/reservations/no-such-id").status_code == 404


# --- PostgreSQL: no transaction for a read, a ping only after a rest --------------------------


@pytest.fixture
def pg(tmp_path, postgres_databases: PostgresDatabases, signing_key) -> Iterator[tuple[Flask, Database, Any]]:
    yield from booking_on_postgres(tmp_path, postgres_databases, signing_key)


def _reader(app: Flask, settings: Any, key: Any) -> Any:
    token = mint(settings, key, USERS["alice"])
    client = app.test_client()
    day = park_day(3)
    path = f"/api/v1/booking/availability?start={at(day, '10:00').isoformat()}&end={at(day, '11:00').isoformat()}"
    return lambda: client.get(path.replace("+", "%2B"), headers={"Authorization": f"Bearer {token}"})


@pytest.mark.postgres
def test_reads_on_postgres_run_outside_a_transaction(pg, signing_key, monkeypatch):
    app, database, settings = pg
    hold_revocations(app, monkeypatch)
    factories.SpaceFactory()
    search = _reader(app, settings, signing_key)
    assert search().status_code == 200
    autocommit: list[bool] = []

    def statement(conn: Any, *_args: Any) -> None:
        autocommit.append(conn.connection.dbapi_connection.autocommit)

    event.listen(database.engine, "before_cursor_execute", statement)
    try:
        assert search().status_code == 200
    finally:
        event.remove(database.engine, "before_cursor_execute", statement)
    # psycopg sends no BEGIN before the statements and its rollback at the end is no round trip.
    assert autocommit and all(autocommit), autocommit
    with database.unit_of_work() as uow:  # and a unit of work still is one transaction
        uow.session.execute(text("SELECT 1"))
        assert uow.session.connection().connection.dbapi_connection.autocommit is False


def _pings(database: Database) -> list[int]:
    """Counts the dialect's pings (they run on the DBAPI cursor, below SQLAlchemy's events)."""
    pings: list[int] = []
    real = database.engine.dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        pings.append(1)
        return bool(real(dbapi_connection))

    database.engine.dialect.do_ping = counting  # type: ignore[method-assign]
    return pings


@pytest.mark.postgres
def test_a_connection_is_pinged_only_after_a_rest_and_a_dead_one_is_replaced(pg, signing_key, monkeypatch):
    app, database, settings = pg
    hold_revocations(app, monkeypatch)
    factories.SpaceFactory()
    search = _reader(app, settings, signing_key)
    assert search().status_code == 200
    pings = _pings(database)
    try:
        monkeypatch.setattr(shared.db, "PING_AFTER_IDLE", 60.0)
        for _ in range(3):
            assert search().status_code == 200
        assert pings == []  # in use a moment ago: no round trip to ask whether it is there

        monkeypatch.setattr(shared.db, "PING_AFTER_IDLE", 0.05)
        with database.engine.connect() as admin:  # cut every other session of this database
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        time.sleep(0.1)
        assert search().status_code == 200  # the rested, dead connection failed its ping: replaced
        assert pings
    finally:
        del database.engine.dialect.do_ping
