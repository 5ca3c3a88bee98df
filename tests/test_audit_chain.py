"""Issue 11 on SQLite: every audit trail is append-only (the database refuses UPDATE and DELETE) and
tamper-evident (a hash chain sealed at commit); ``parkhub audit verify`` names the first broken row.

The PostgreSQL side (triggers, TRUNCATE, concurrency, the same hashes) is
tests/test_audit_chain_postgres.py.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from gateway.models import AuditEntry
from gateway.models import database as gateway_database
from migrations import upgrade
from parkhub_cli import main
from services.booking.models import AdminChange, Transition
from services.booking.models import database as booking_database
from shared.audit import GENESIS, canonical, chained_tables, row_hash, verify
from shared.clock import utcnow
from shared.settings import Settings
from tests.conftest import make_settings
from tests.gateway.factories import OrganisationBody
from tests.journeys import roadshow, valuation
from tests.journeys.driver import EmbeddedDriver
from tests.park import running_park

AUDIT_TABLES = {
    "gateway": ["audit_entries"],
    "booking": ["admin_changes", "transitions"],
    "consulting": ["case_transitions"],
    "finance": ["application_transitions", "decisions"],
}
CONSULTING = "/api/v1/consulting"
MISSING = "row missing (deleted, or the chain was renumbered)"


def audit(settings: Settings, capsys: pytest.CaptureFixture[str], *databases: str) -> tuple[int, list[str]]:
    """``parkhub audit verify [databases]`` over ``settings``'s var/: exit code and its lines."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKHUB_VAR_DIR", str(settings.var_dir))
        code = main(["audit", "verify", *databases])
    return code, capsys.readouterr().out.splitlines()


def rows_per_chain(lines: list[str]) -> dict[str, int]:
    return {line.split(":")[0]: int(line.split(": ")[1].split(" ")[0]) for line in lines}


@pytest.fixture
def demo(demo_platform: Path, tmp_path: Path) -> Settings:
    """Settings over a fresh copy of the whole demo (``parkhub seed``)."""
    var = tmp_path / "demo"
    shutil.copytree(demo_platform, var)
    return make_settings(var)


def sql(settings: Settings, name: str) -> sqlite3.Connection:
    """A raw connection to one database file, as anyone with the file could open it."""
    return sqlite3.connect(settings.database_url(name).removeprefix("sqlite:///"), isolation_level=None)


# --- 1. writes through the HTTP API leave every chain intact ---------------------------------


def test_the_journeys_through_the_api_leave_every_chain_sealed_and_intact(
    demo_platform: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(tmp_path / "var")
    before: dict[str, int] = {}
    for park in running_park(demo_platform, tmp_path, PARKHUB_JOB_SECONDS="1"):
        settings = park.platform.settings
        code, lines = audit(settings, capsys)
        assert code == 0, lines
        before = rows_per_chain(lines)
        driver = EmbeddedDriver(park)
        roadshow.run(driver)  # finance: application, offer accepted; booking: a roadshow, approved
        application_id = valuation.application_in_pre_review(driver, f"Audit trail check {uuid.uuid4().hex[:6]}")
        case = valuation.request_valuation(driver, application_id)  # consulting opens a case (the bus)
        path = f"{CONSULTING}/cases/{case['case_id']}"
        shown = driver.call("ipagent", "GET", path)
        shown.expect(200)
        driver.call("ipagent", "POST", f"{path}/accept", json={}, headers={"If-Match": shown.headers["ETag"]}).expect(
            200
        )
        driver.call("admin", "POST", "/api/v1/organisations", json=OrganisationBody()).expect(201)
        space = roadshow.space_of_kind(driver, "exhibition_hall")
        shown = driver.call("admin", "GET", f"/api/v1/booking/spaces/{space['id']}")
        shown.expect(200)
        driver.call(
            "admin",
            "PATCH",
            f"/api/v1/booking/spaces/{space['id']}",
            json={"capacity": space["capacity"] + 1},
            headers={"If-Match": shown.headers["ETag"]},
        ).expect(200)
    code, lines = audit(settings, capsys)
    after = rows_per_chain(lines)
    assert code == 0 and all(line.endswith("chain intact") for line in lines), lines
    assert sorted(after) == sorted(f"{db}.{t}" for db, tables in AUDIT_TABLES.items() for t in tables)
    grown = {chain for chain in after if after[chain] > before[chain]}
    assert grown == set(after), (before, after)  # every trail took new rows, and all are sealed


# --- 2. the database refuses UPDATE and DELETE ------------------------------------------------


def test_seed_rows_are_sealed_and_the_database_refuses_to_change_or_delete_them(demo: Settings) -> None:
    with booking_database(demo).unit_of_work() as uow:  # booking's demo has no audit rows yet
        for n in range(2):
            uow.session.add(
                Transition(
                    reservation_id=_reservation(uow),
                    action="create",
                    to_status="confirmed",
                    actor="user:alice",
                    details={},
                    at=utcnow(),
                )
            )
            uow.session.add(
                AdminChange(
                    entity="space",
                    entity_id=f"s{n}",
                    action="update",
                    actor="user:admin",
                    details={"n": n},
                    at=utcnow(),
                )
            )
        uow.commit()
    for name, tables in AUDIT_TABLES.items():
        connection = sql(demo, name)
        try:
            for table in tables:
                (count,) = connection.execute(f"SELECT count(*) FROM {table} WHERE row_hash IS NOT NULL").fetchone()
                assert count >= 2
                (column,) = connection.execute(
                    f"SELECT name FROM pragma_table_info('{table}') WHERE cid = 1"
                ).fetchone()
                for statement in (
                    f"UPDATE {table} SET {column} = {column} || 'x'",
                    f"UPDATE {table} SET row_hash = '{GENESIS}'",
                    f"UPDATE {table} SET chain_seq = chain_seq + 1000",
                    f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} LIMIT 1)",
                    f"DELETE FROM {table}",
                ):
                    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                        connection.execute(statement)
                assert connection.execute(f"SELECT count(*) FROM {table}").fetchone() == (count,)
            for statement in (
                "UPDATE audit_chain_heads SET seq = seq - 1",
                "UPDATE audit_chain_heads SET hash = 'x'",
                "DELETE FROM audit_chain_heads",
            ):
                with pytest.raises(sqlite3.IntegrityError, match="only moves forward"):
                    connection.execute(statement)
        finally:
            connection.close()


def test_the_app_cannot_rewrite_an_entry_either(demo: Settings) -> None:
    database = gateway_database(demo)
    with database.unit_of_work() as uow:
        entry = uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).first()
        assert entry is not None and entry.chain_seq == 1 and entry.prev_hash == GENESIS
        with pytest.raises(Exception, match="append-only"):
            uow.session.execute(text("UPDATE audit_entries SET reason = 'rewritten' WHERE id = :id"), {"id": entry.id})


# --- 3. tampering is found, and named ----------------------------------------------------------


def tamper(settings: Settings, name: str, table: str, *statements: str) -> None:
    """Run ``statements`` with ``table``'s triggers dropped (as the file's owner could), then put
    the triggers back (migrations/audit_chain_v1.py)."""
    from migrations.audit_chain_v1 import sqlite_triggers

    connection = sql(settings, name)
    try:
        connection.execute(f"DROP TRIGGER {table}_append_only_update")
        connection.execute(f"DROP TRIGGER {table}_append_only_delete")
        for statement in statements:
            connection.execute(statement)
        engine = create_engine(settings.database_url(name))
        with engine.begin() as bind:
            for statement in sqlite_triggers(bind, table):
                bind.exec_driver_sql(statement)
        engine.dispose()
    finally:
        connection.close()


def chain(settings: Settings, name: str, table: str) -> list[tuple[int, int, str]]:
    connection = sql(settings, name)
    try:
        return connection.execute(f"SELECT chain_seq, id, row_hash FROM {table} ORDER BY chain_seq").fetchall()
    finally:
        connection.close()


def test_a_changed_detail_is_named_by_its_row(demo: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    rows = chain(demo, "finance", "application_transitions")
    seq, row_id, _ = rows[16]
    tamper(
        demo,
        "finance",
        "application_transitions",
        f"UPDATE application_transitions SET reason = 'fine' WHERE id = {row_id}",
    )
    code, lines = audit(demo, capsys, "finance")
    assert code == 1
    assert lines[0] == (
        f"finance.application_transitions: {len(rows)} rows, BROKEN at chain_seq {seq} (id {row_id}): "
        "hash does not match its content"
    )
    assert lines[1].endswith("chain intact")  # decisions: untouched


def test_a_row_changed_and_rehashed_breaks_the_link_of_the_next(
    demo: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = chain(demo, "consulting", "case_transitions")
    seq, row_id, _ = rows[5]
    connection = sql(demo, "consulting")
    columns = [r[1] for r in connection.execute("PRAGMA table_info(case_transitions)")]
    connection.close()
    # A careful forger recomputes the changed row's own hash: the next row still names the old one.
    engine = create_engine(demo.database_url("consulting"))
    from services.consulting.models import CaseTransition

    with engine.connect() as bind:
        row = bind.execute(select(CaseTransition.__table__).where(CaseTransition.id == row_id)).mappings().one()
    engine.dispose()
    forged = {**row, "actor": "user:nobody"}
    assert "actor" in columns
    tamper(
        demo,
        "consulting",
        "case_transitions",
        f"UPDATE case_transitions SET actor = 'user:nobody', row_hash = '{row_hash(row['prev_hash'], forged)}' "
        f"WHERE id = {row_id}",
    )
    next_seq, next_id, _ = rows[6]
    code, lines = audit(demo, capsys, "consulting")
    assert (code, lines) == (
        1,
        [
            f"consulting.case_transitions: {len(rows)} rows, BROKEN at chain_seq {next_seq} (id {next_id}): "
            "prev_hash does not match the previous row's hash"
        ],
    )


def test_a_deleted_row_and_a_deleted_last_row_are_missing(demo: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    rows = chain(demo, "gateway", "audit_entries")
    tamper(demo, "gateway", "audit_entries", f"DELETE FROM audit_entries WHERE id = {rows[9][1]}")
    code, lines = audit(demo, capsys, "gateway")
    assert (code, lines) == (
        1,
        [f"gateway.audit_entries: {len(rows) - 1} rows, BROKEN at chain_seq 10: {MISSING}"],
    )
    rows = chain(demo, "finance", "decisions")
    tamper(demo, "finance", "decisions", f"DELETE FROM decisions WHERE chain_seq = {len(rows)}")
    code, lines = audit(demo, capsys, "finance")
    assert code == 1
    assert lines[1] == f"finance.decisions: {len(rows) - 1} rows, BROKEN at chain_seq {len(rows)}: {MISSING}"


def test_reordered_rows_break_the_chain_where_the_order_changes(
    demo: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = chain(demo, "gateway", "audit_entries")
    (s3, id3, _), (s4, id4, _) = rows[2], rows[3]
    tamper(
        demo,
        "gateway",
        "audit_entries",
        f"UPDATE audit_entries SET chain_seq = -1 WHERE id = {id3}",
        f"UPDATE audit_entries SET chain_seq = {s3} WHERE id = {id4}",
        f"UPDATE audit_entries SET chain_seq = {s4} WHERE id = {id3}",
    )
    code, lines = audit(demo, capsys, "gateway")
    assert (code, lines) == (
        1,
        [
            f"gateway.audit_entries: {len(rows)} rows, BROKEN at chain_seq {s3} (id {id4}): "
            "prev_hash does not match the previous row's hash"
        ],
    )


def test_a_row_slipped_in_around_the_app_is_unsealed(demo: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    connection = sql(demo, "gateway")
    connection.execute(
        "INSERT INTO audit_entries (id, at, actor, entity, entity_id, action) "
        "VALUES (9999, '2026-11-30 03:00:00.000000', 'user:mallory', 'user', 'u1', 'update')"
    )
    connection.close()
    code, lines = audit(demo, capsys)
    assert code == 1
    assert (
        f"gateway.audit_entries: {len(chain(demo, 'gateway', 'audit_entries'))} rows, "
        "BROKEN at an unsealed row (id 9999): row was never sealed into the chain" in lines
    )
    assert sum(line.endswith("chain intact") for line in lines) == 5


# --- 4. sealing: what one commit seals, and canonical content ----------------------------------


def test_a_commit_seals_its_rows_in_insertion_order_and_a_rollback_seals_nothing(demo: Settings) -> None:
    database = gateway_database(demo)
    with database.reading() as session:
        head = session.execute(text("SELECT seq, hash FROM audit_chain_heads WHERE table_name = 'audit_entries'")).one()
    with database.unit_of_work() as uow:
        for n in range(3):
            entry = AuditEntry(
                at=utcnow(),
                actor="user:admin",
                entity="user",
                entity_id=f"u{n}",
                action="update",
                to_state={"b": 1, "a": [n, "岷江"]},
            )
            uow.session.add(entry)
            uow.session.flush()  # the handler may read its rows back before the commit
            assert uow.session.scalar(select(AuditEntry.chain_seq).where(AuditEntry.id == entry.id)) is None
        uow.commit()
    with database.unit_of_work() as uow:
        uow.session.add(AuditEntry(at=utcnow(), actor="user:admin", entity="user", entity_id="gone", action="update"))
        uow.session.flush()  # never committed
    with database.reading() as session:
        rows = session.execute(
            select(AuditEntry.entity_id, AuditEntry.chain_seq, AuditEntry.prev_hash, AuditEntry.row_hash)
            .where(AuditEntry.chain_seq > head.seq)
            .order_by(AuditEntry.chain_seq)
        ).all()
    assert [(r.entity_id, r.chain_seq) for r in rows] == [
        ("u0", head.seq + 1),
        ("u1", head.seq + 2),
        ("u2", head.seq + 3),
    ]
    assert rows[0].prev_hash == head.hash and rows[1].prev_hash == rows[0].row_hash
    engine = create_engine(demo.database_url("gateway"))
    try:
        [report] = verify(engine, "gateway", chained_tables(AuditEntry.metadata))
        assert report.intact and report.rows == head.seq + 3
    finally:
        engine.dispose()


def test_rows_a_crash_left_unsealed_are_sealed_by_the_next_write_or_the_cli(
    demo: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # A process that died between its commit and its seal: rows committed without chain columns.
    connection = sql(demo, "gateway")
    for n in range(2):
        connection.execute(
            "INSERT INTO audit_entries (at, actor, entity, entity_id, action) "
            f"VALUES ('2026-11-29 03:00:0{n}.000000', 'user:admin', 'user', 'crashed{n}', 'update')"
        )
    connection.close()
    code, lines = audit(demo, capsys, "gateway")
    assert code == 1 and lines[0].endswith("row was never sealed into the chain"), lines
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARKHUB_VAR_DIR", str(demo.var_dir))
        assert main(["audit", "seal", "gateway"]) == 0
    assert capsys.readouterr().out.splitlines() == ["gateway: 2 row(s) sealed"]
    assert audit(demo, capsys, "gateway")[0] == 0
    connection = sql(demo, "gateway")  # and again, now with a write through the app after it
    connection.execute(
        "INSERT INTO audit_entries (at, actor, entity, entity_id, action) "
        "VALUES ('2026-11-29 04:00:00.000000', 'user:admin', 'user', 'crashed2', 'update')"
    )
    connection.close()
    with gateway_database(demo).unit_of_work() as uow:
        uow.session.add(AuditEntry(at=utcnow(), actor="user:admin", entity="user", entity_id="next", action="update"))
        uow.commit()
    code, lines = audit(demo, capsys, "gateway")
    assert code == 0, lines
    last = chain(demo, "gateway", "audit_entries")[-2:]
    assert [row_id for _, row_id, _ in last] == sorted(row_id for _, row_id, _ in last)  # key order


def test_a_row_between_its_commit_and_its_seal_is_not_a_break(
    demo: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    connection = sql(demo, "gateway")
    connection.execute(
        "INSERT INTO audit_entries (at, actor, entity, entity_id, action) "
        "VALUES (strftime('%Y-%m-%d %H:%M:%f000', 'now'), 'user:admin', 'user', 'just-now', 'update')"
    )
    connection.close()
    code, lines = audit(demo, capsys, "gateway")
    assert code == 0 and lines[0].endswith("chain intact"), lines


def test_a_migration_seals_the_rows_an_older_database_holds_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/gateway.db"
    upgrade("gateway", url, "0002")
    engine = create_engine(url)
    with engine.begin() as connection:
        for n, at in enumerate(
            ["2026-11-29 10:00:00.000001", "2026-11-29 09:00:00.000000", "2026-11-30 00:00:00.000000"]
        ):
            connection.execute(
                text(
                    "INSERT INTO audit_entries (at, actor, entity, entity_id, action, to_state) "
                    "VALUES (:at, 'user:admin', 'organisation', :e, 'register', :s)"
                ),
                {"at": at, "e": f"org{n}", "s": '{"z": 1, "a": "甲"}'},
            )
    upgrade("gateway", url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, chain_seq FROM audit_entries ORDER BY id")).all()
            assert rows == [(1, 1), (2, 2), (3, 3)]  # id order, whatever the times say
            assert connection.execute(text("SELECT seq FROM audit_chain_heads")).scalar_one() == 3
        [report] = verify(engine, "gateway", chained_tables(AuditEntry.metadata))
        assert (report.intact, report.rows) == (True, 3)
        with engine.connect() as connection, pytest.raises(Exception, match="append-only"):
            connection.execute(text("DELETE FROM audit_entries"))
        from alembic import command

        from migrations import alembic_config

        command.downgrade(alembic_config("gateway", url), "0002")
        with engine.begin() as connection:
            assert connection.execute(text("DELETE FROM audit_entries WHERE id = 3")).rowcount == 1
            assert "row_hash" not in {c for c in connection.execute(text("SELECT * FROM audit_entries")).keys()}
        upgrade("gateway", url)
        [report] = verify(engine, "gateway", chained_tables(AuditEntry.metadata))
        assert (report.intact, report.rows) == (True, 2)
    finally:
        engine.dispose()


def _reservation(uow: Any) -> str:
    """A reservation for the transitions to be about (booking's demo has spaces, no bookings)."""
    from tests.booking import factories

    factories.bind(uow.session)
    try:
        return str(factories.ReservationFactory().id)
    finally:
        factories.bind(None)


def test_a_column_added_later_as_null_leaves_older_hashes_as_they_were() -> None:
    """A migration may add a nullable column without a default to an audit table: older rows read
    it as NULL, and their hashes must not change (verify would call all of history broken)."""
    before = {"id": 7, "action": "approve", "details": {"note": None}}
    after = {**before, "added_later": None}
    assert row_hash(GENESIS, after) == row_hash(GENESIS, before)
    assert row_hash(GENESIS, {**before, "added_later": "x"}) != row_hash(GENESIS, before)
    assert '"note":null' in canonical(before)  # inside a JSON value, null is data
