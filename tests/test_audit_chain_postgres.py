"""Issue 11 on PostgreSQL: the triggers refuse UPDATE (but the seal), DELETE and TRUNCATE; a row
hashes to the same bytes as on SQLite; tampering by a superuser is found; twenty writers at once
keep one intact chain per trail, without deadlock. The SQLite side: tests/test_audit_chain.py."""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, text

from gateway.models import AuditEntry
from gateway.models import messaging as gateway_messaging
from migrations import alembic_config, upgrade, upgrade_all
from parkhub_cli import _seed, main
from services.booking.models import TABLES as BOOKING_TABLES
from services.booking.models import AdminChange, Transition
from shared.audit import GENESIS, chained_tables, verify
from shared.clock import PARK_TZ
from shared.db import Database, forget_databases
from shared.settings import Settings
from tests.booking import factories
from tests.booking.conftest import (
    Api,
    at,
    booking_on_postgres,
    park_day,
    signing_key,  # noqa: F401  (the fixture, for booking's app)
)
from tests.conftest import make_settings
from tests.servers import PostgresDatabases

pytestmark = pytest.mark.postgres

AUDIT_TABLES = {
    "gateway": ["audit_entries"],
    "booking": ["admin_changes", "transitions"],
    "consulting": ["case_transitions"],
    "finance": ["application_transitions", "decisions"],
}
WRITERS = 20


@pytest.fixture(scope="module")
def seeded_on_postgres(tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases) -> str:
    """Every database on PostgreSQL, built by the migrations, with the whole demo (``parkhub
    seed``); returns the URL template. Module-wide: the tests that change it work on copies."""
    template = postgres_databases.new_set()
    settings = make_settings(tmp_path_factory.mktemp("pg-demo"), PARKHUB_DATABASE_URL_TEMPLATE=template)
    upgrade_all(settings)
    assert _seed(settings, argparse.Namespace()) == 0
    forget_databases()
    booking = Database("booking", template.format(name="booking"), BOOKING_TABLES.messaging)
    try:  # booking's demo has spaces and no bookings: a reservation, its transition, a change
        session = booking.session()
        factories.bind(session)
        try:
            reservation_id = factories.ReservationFactory().id
        finally:
            factories.bind(None)
            session.close()
        with booking.unit_of_work() as uow:
            now = datetime.now(PARK_TZ)
            uow.session.add(
                Transition(
                    reservation_id=reservation_id,
                    action="create",
                    to_status="confirmed",
                    actor="user:alice",
                    details={},
                    at=now,
                )
            )
            uow.session.add(
                AdminChange(entity="space", entity_id="s1", action="update", actor="user:admin", details={}, at=now)
            )
            uow.commit()
    finally:
        booking.dispose()
    return template


def superuser(template: str, name: str) -> psycopg.Connection[Any]:
    url = template.format(name=name).replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True)


def audit(template: str, capsys: pytest.CaptureFixture[str], *databases: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKHUB_DATABASE_URL_TEMPLATE", template)
        code = main(["audit", "verify", *databases])
    return code, capsys.readouterr().out.splitlines()


def test_the_seeded_trails_are_sealed_and_the_database_refuses_update_delete_and_truncate(
    seeded_on_postgres: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = audit(seeded_on_postgres, capsys)
    assert code == 0 and len(lines) == 6 and all(line.endswith("chain intact") for line in lines), lines
    for name, tables in AUDIT_TABLES.items():
        with superuser(seeded_on_postgres, name) as connection:
            for table in tables:
                count = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
                column = "decided_by" if table == "decisions" else "actor"
                for statement in (
                    f"UPDATE {table} SET {column} = 'user:mallory'",
                    f"UPDATE {table} SET row_hash = '{GENESIS}'",
                    f"UPDATE {table} SET chain_seq = NULL, prev_hash = NULL, row_hash = NULL",
                    f"DELETE FROM {table}",
                    f"TRUNCATE {table} CASCADE",
                ):
                    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                        connection.execute(statement)
                assert connection.execute(f"SELECT count(*) FROM {table}").fetchone() == count
            for statement in (
                "UPDATE audit_chain_heads SET seq = seq - 1",
                "UPDATE audit_chain_heads SET hash = 'x'",
                "DELETE FROM audit_chain_heads",
                "TRUNCATE audit_chain_heads",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only moves forward"):
                    connection.execute(statement)


def test_a_cascade_from_deleting_what_the_trail_is_about_is_refused(seeded_on_postgres: str) -> None:
    with superuser(seeded_on_postgres, "finance") as connection:
        (application,) = connection.execute(
            "SELECT application_id FROM application_transitions ORDER BY chain_seq LIMIT 1"
        ).fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            connection.execute("DELETE FROM applications WHERE id = %s", (application,))
        assert connection.execute("SELECT count(*) FROM applications WHERE id = %s", (application,)).fetchone() == (1,)


def test_the_same_rows_hash_alike_on_sqlite_and_postgres(tmp_path: Path, postgres_databases: PostgresDatabases) -> None:
    template = postgres_databases.new_set()
    hashes: dict[str, list[tuple[str, str]]] = {}
    # Times in park time, with microseconds; JSON with unsorted keys, Chinese, null, a float.
    at_ = datetime(2026, 11, 30, 11, 5, 7, 123456, tzinfo=PARK_TZ)
    state = {"z": 1.5, "name_zh": "岷江基因", "roles": ["b", "a"], "none": None, "nested": {"y": 2, "x": 1}}
    for kind, url in {
        "sqlite": f"sqlite:///{tmp_path}/{{name}}.db",
        "postgresql": template,
    }.items():
        rows = []
        for name, model, fields, messaging in (
            (
                "gateway",
                AuditEntry,
                {"entity": "user", "entity_id": "u1", "to_state": state, "reason": None},
                gateway_messaging,
            ),
            (
                "booking",
                AdminChange,
                {"entity": "space", "entity_id": "s1", "details": state},
                BOOKING_TABLES.messaging,
            ),
        ):
            # The gateway's timestamps are plain DateTime (SQLite would keep park time's wall clock):
            # the app writes them in UTC. Booking's are UtcDateTime: any zone in, UTC stored.
            written_at = at_.astimezone(UTC) if name == "gateway" else at_
            upgrade(name, url.format(name=name))
            database = Database(name, url.format(name=name), messaging)
            try:
                with database.unit_of_work() as uow:
                    uow.session.add(model(at=written_at, actor="user:admin", action="update", **fields))
                    uow.commit()
                engine = database.engine
                [report] = verify(engine, name, [model.__table__])
                assert report.intact and report.rows == 1, report
                with engine.connect() as connection:
                    table = model.__tablename__
                    rows.append(tuple(connection.execute(text(f"SELECT prev_hash, row_hash FROM {table}")).one()))
            finally:
                database.dispose()
        hashes[kind] = rows
    assert hashes["sqlite"] == hashes["postgresql"]
    assert all(prev == GENESIS for prev, _ in hashes["sqlite"])


def test_a_superuser_who_drops_the_trigger_is_still_found_out(
    postgres_databases: PostgresDatabases, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = postgres_databases.new_set()
    url = template.format(name="gateway")
    upgrade("gateway", url)
    database = Database("gateway", url, gateway_messaging)
    try:
        for n in range(5):
            with database.unit_of_work() as uow:
                uow.session.add(
                    AuditEntry(
                        at=datetime.now(PARK_TZ), actor="user:admin", entity="user", entity_id=f"u{n}", action="update"
                    )
                )
                uow.commit()
    finally:
        database.dispose()
    with superuser(template, "gateway") as connection:
        connection.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
        connection.execute("UPDATE audit_entries SET reason = 'approved by the board' WHERE chain_seq = 3")
        (row_id,) = connection.execute("SELECT id FROM audit_entries WHERE chain_seq = 3").fetchone()
    code, lines = audit(template, capsys, "gateway")
    assert (code, lines) == (
        1,
        [f"gateway.audit_entries: 5 rows, BROKEN at chain_seq 3 (id {row_id}): hash does not match its content"],
    )
    with superuser(template, "gateway") as connection:
        connection.execute("DELETE FROM audit_entries WHERE chain_seq = 2")
    code, lines = audit(template, capsys, "gateway")
    assert (code, lines) == (
        1,
        ["gateway.audit_entries: 4 rows, BROKEN at chain_seq 2: row missing (deleted, or the chain was renumbered)"],
    )


def test_a_migration_seals_the_history_of_an_older_database_and_downgrades(
    postgres_databases: PostgresDatabases,
) -> None:
    url = postgres_databases.new_set().format(name="gateway")
    upgrade("gateway", url, "0002")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for n in range(3):
                connection.execute(
                    text(
                        "INSERT INTO audit_entries (at, actor, entity, entity_id, action, to_state) "
                        "VALUES (now() - make_interval(hours => :n), 'user:admin', 'organisation', :e, 'register', :s)"
                    ),
                    {"n": n, "e": f"org{n}", "s": '{"z": 1, "a": "甲"}'},
                )
        upgrade("gateway", url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT id, chain_seq FROM audit_entries ORDER BY id")).all() == [
                (1, 1),
                (2, 2),
                (3, 3),
            ]
        [report] = verify(engine, "gateway", chained_tables(AuditEntry.metadata))
        assert (report.intact, report.rows) == (True, 3)
        command.downgrade(alembic_config("gateway", url), "0002")
        with engine.begin() as connection:  # no trigger, no chain columns, no heads table left
            assert connection.execute(text("DELETE FROM audit_entries WHERE id = 3")).rowcount == 1
            assert connection.execute(text("SELECT to_regclass('audit_chain_heads')")).scalar_one() is None
            assert (
                connection.execute(text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'audit_%'")).scalar_one() == 0
            )
        upgrade("gateway", url)
        [report] = verify(engine, "gateway", chained_tables(AuditEntry.metadata))
        assert (report.intact, report.rows) == (True, 2)
    finally:
        engine.dispose()


@pytest.fixture
def pg(
    tmp_path: Path,
    postgres_databases: PostgresDatabases,
    signing_key: Any,  # noqa: F811
) -> Iterator[tuple[Any, Database, Settings]]:
    yield from booking_on_postgres(tmp_path, postgres_databases, signing_key)


def test_twenty_writers_at_once_keep_one_intact_chain_per_trail(
    pg: tuple[Any, Database, Settings],
    signing_key: Any,  # noqa: F811
) -> None:
    app, database, settings = pg
    spaces = [factories.SpaceFactory(approval_mode="always") for _ in range(WRITERS)]
    day = park_day(4)
    gate = threading.Barrier(WRITERS)

    def write(index: int) -> list[int]:
        api = Api(app.test_client(), settings, signing_key)
        space = spaces[index]
        gate.wait(timeout=30)
        booked = api.book(space.id, at(day, "10:00"), at(day, "11:00"), user=("alice", "bob", "carol")[index % 3])
        shown = api.get(f"/spaces/{space.id}", user="admin")
        changed = api.patch(
            f"/spaces/{space.id}", {"capacity": space.capacity + 1}, **{"If-Match": shown.headers["ETag"]}
        )
        approved = api.act(booked.json, "approve", user="desk")
        return [booked.status_code, changed.status_code, approved.status_code]

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        statuses = Counter(status for answer in pool.map(write, range(WRITERS)) for status in answer)
    elapsed = time.monotonic() - started
    assert statuses == Counter({201: WRITERS, 200: 2 * WRITERS}), statuses
    reports = {r.table: r for r in verify(database.engine, "booking", chained_tables(AdminChange.metadata))}
    assert reports["transitions"].intact and reports["transitions"].rows == 2 * WRITERS, reports  # create, approve
    assert reports["admin_changes"].intact and reports["admin_changes"].rows == WRITERS, reports
    with database.engine.connect() as connection:
        unsealed = connection.execute(text("SELECT count(*) FROM transitions WHERE row_hash IS NULL")).scalar_one()
        head = connection.execute(
            text("SELECT seq FROM audit_chain_heads WHERE table_name = 'transitions'")
        ).scalar_one()
    assert (unsealed, head) == (0, 2 * WRITERS)
    print(f"{WRITERS} writers, {3 * WRITERS} audited changes in {elapsed:.2f}s")
