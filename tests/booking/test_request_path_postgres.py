"""The request path on PostgreSQL, through the real app: what one create costs there, and the free
hours that cannot be overspent by concurrent bookings. (An in-flight ``Idempotency-Key``:
tests/test_idempotency.py.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, text

from shared.audit import SEAL_OPTION
from shared.db import Database
from tests.booking import factories
from tests.booking.conftest import (
    ORG_A,
    USERS,
    at,
    booking_on_postgres,
    mint,
    park_day,
)
from tests.booking.test_request_cost import hold_revocations
from tests.servers import PostgresDatabases

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(tmp_path, postgres_databases: PostgresDatabases, signing_key) -> Iterator[tuple[Flask, Database, Any]]:
    yield from booking_on_postgres(tmp_path, postgres_databases, signing_key)


def _post(app: Flask, settings: Any, key: Any, body: dict[str, Any], user: str = "alice", **headers: str) -> Any:
    token = mint(settings, key, USERS[user])
    return app.test_client().post(
        "/api/v1/booking/reservations", json=body, headers={"Authorization": f"Bearer {token}", **headers}
    )


def _body(space_id: str, day_offset: int, start: str, end: str) -> dict[str, Any]:
    day = park_day(day_offset)
    return {
        "space_id": space_id,
        "start": at(day, start).isoformat(),
        "end": at(day, end).isoformat(),
        "title": "Board",
        "attendees": 4,
    }


def test_a_create_is_one_transaction_without_advisory_lock_or_sum(pg, signing_key, monkeypatch):
    app, database, settings = pg
    hold_revocations(app, monkeypatch)
    space = factories.SpaceFactory()
    factories.QuotaRuleFactory(org_id="*", space_kind=space.kind, free_hours_per_month=10)
    statements: list[str] = []
    begins: list[int] = []
    checkouts: list[int] = []

    def statement(conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if not conn.get_execution_options().get(SEAL_OPTION):  # the audit seal, after the commit
            statements.append(sql)

    def begin(conn: Any) -> None:
        if not conn.get_execution_options().get(SEAL_OPTION):
            begins.append(1)

    engine = database.engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "begin", begin)
    event.listen(engine.pool, "checkout", lambda *_a: checkouts.append(1))
    for key in (None, "pg-create"):
        for seen in (statements, begins, checkouts):
            seen.clear()
        headers = {"Idempotency-Key": key} if key else {}
        response = _post(app, settings, signing_key, _body(space.id, 3 if key else 4, "10:00", "11:00"), **headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.json["quota_minutes"] == 60
        joined = "\n".join(statements)
        # The only advisory lock is the key's claim (shared/http/idempotency.py), never the quota's.
        assert joined.count("advisory") == (1 if key else 0)
        assert "sum(" not in joined.lower()
        assert (len(begins), len(checkouts)) == (1, 1)
        # pool_pre_ping's "SELECT 1" is in here too: one per checkout, and one checkout per request;
        # a key adds its lock; the savepoint around the counter written last adds two (handlers/quota.py).
        assert len(statements) <= 17 + (1 if key else 0), joined
        print(f"postgres create, Idempotency-Key={key!r}: {len(statements)} statements")


def test_free_hours_cannot_be_overspent_by_concurrent_bookings(pg, signing_key):
    app, database, settings = pg
    spaces = [factories.SpaceFactory(code=f"ROOM-{n}") for n in range(4)]
    factories.QuotaRuleFactory(org_id="*", space_kind=spaces[0].kind, free_hours_per_month=2)
    # Sixteen one-hour bookings of one tenant in one month, eight at a time: the month's two free
    # hours go to exactly two of them, whatever the interleaving.
    first_day = 3 if park_day(3).month == park_day(4).month else 4  # both days in one month
    times = (("08:00", "09:00"), ("10:00", "11:00"))
    slots = [(spaces[n % 4].id, first_day + n // 8, *times[(n // 4) % 2]) for n in range(16)]
    users = ("alice", "bob")

    def book(index: int) -> tuple[int, int]:
        space_id, day, start, end = slots[index]
        response = _post(app, settings, signing_key, _body(space_id, day, start, end), user=users[index % 2])
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json["quota_minutes"], response.json["billable_minutes"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(book, range(16)))
    assert sum(quota for quota, _ in results) == 120
    assert Counter(results) == Counter({(60, 0): 2, (0, 60): 14})
    engine = create_engine(database.url)
    try:
        with engine.connect() as connection:
            counter = connection.execute(
                text("SELECT minutes FROM quota_usage WHERE org_id = :org"), {"org": ORG_A}
            ).scalar_one()
    finally:
        engine.dispose()
    assert counter == 120
