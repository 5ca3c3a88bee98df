"""The relay's and health's queries read only what is pending, however many settled rows the outbox
keeps (housekeeping keeps them 7 days; an unsubscribed event stays unpublished all that time).

On a real PostgreSQL, built by the migrations: the statements the code itself sends are
captured and run again under ``EXPLAIN ANALYZE``, and the rows each plan touched are counted.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from migrations import upgrade
from shared.bus.outbox import Relay, backlog
from shared.db import Database
from shared.settings import Settings
from tests.bus.conftest import REGISTERED, notify_database, publish
from tests.integration.conftest import distributed_settings

pytestmark = [pytest.mark.postgres]

SETTLED = 100_000
"""Settled rows, half of them unsubscribed events (``published_at`` empty)."""


class _Refusing:
    def publish(self, envelope: Any) -> None:
        raise AssertionError("nothing is due in this test")


@pytest.fixture(scope="module")
def settings(postgres_databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    template = postgres_databases.new_set()
    upgrade("notify", template.format(name="notify"))
    var: Path = tmp_path_factory.mktemp("outbox-index")
    return distributed_settings(template, "amqp://guest:guest@127.0.0.1:1//", "unused", var)


@pytest.fixture(scope="module")
def db(settings: Settings) -> Iterator[Database]:
    db = notify_database(settings)
    with db.unit_of_work() as uow:
        # Half settled unpublished (nobody subscribed), half published and settled; a week's worth.
        uow.session.execute(
            text(
                "INSERT INTO outbox (event_id, type, envelope, created_at, published_at, settled_at, last_error)"
                " SELECT md5(n::text), 'booking.reservation.created', '{}', now() - interval '1 day',"
                " CASE WHEN n % 2 = 0 THEN now() END, now(),"
                " CASE WHEN n % 2 = 1 THEN 'no subscriber declared' END"
                " FROM generate_series(1, :count) AS n"
            ),
            {"count": SETTLED},
        )
        uow.commit()
    publish(db, "Pending One", "Pending Two")
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE outbox"))
    yield db


def captured(db: Database, run: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The SELECTs ``run`` sends on ``db``, with their parameters."""
    statements: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "outbox" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert statements, "nothing captured"
    return statements


def rows_touched(db: Database, statement: str, parameters: Any) -> int:
    """Rows the plan's scans returned or filtered out, under ``EXPLAIN ANALYZE``."""
    with db.engine.connect() as connection:
        raw = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters).scalar_one()
        connection.rollback()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]

    def walk(node: dict[str, Any]) -> int:
        own = 0
        if "Scan" in node["Node Type"]:
            own = int(node.get("Actual Rows", 0)) * int(node.get("Actual Loops", 1))
        own += int(node.get("Rows Removed by Filter", 0)) + int(node.get("Rows Removed by Index Recheck", 0))
        return own + sum(walk(child) for child in node.get("Plans", []))

    return walk(plan)


def median_ms(run: Callable[[], Any], times: int = 15) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def test_the_relay_and_health_read_only_the_pending_rows(db: Database) -> None:
    relay = Relay(db, _Refusing(), durable=True, subscribed=frozenset({REGISTERED}))
    with db.unit_of_work() as uow:  # both pending rows back off: the pass claims nothing
        uow.session.execute(
            text("UPDATE outbox SET attempts = 1, next_attempt_at = now() + interval '1 hour' WHERE settled_at IS NULL")
        )
        uow.commit()
    checks = {
        "relay pass": relay.run_pass,
        "next due": relay.next_due,
        "health backlog (pending, unroutable)": lambda: backlog(db),
    }
    touched = {}
    for what, run in checks.items():
        statements = captured(db, run)
        if what.startswith("health"):  # the unsubscribed count reads what it counts, by design
            statements = [s for s in statements if "settled_at IS NOT NULL" not in s[0]]
        touched[what] = max(rows_touched(db, *s) for s in statements)
    timings = {what: median_ms(run) for what, run in checks.items()}
    print(f"\n{SETTLED} settled rows, 2 pending: rows touched {touched}; median ms {timings}")
    assert all(count <= 2 for count in touched.values()), touched
