"""The revocations table on PostgreSQL (the distributed mode's database): the consumer's upsert
(``greatest`` there, SQLite's ``max`` elsewhere) keeps the later cut-off whatever the order, two
writers of the same key at once both succeed, and the snapshot refuses what the rows say."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from migrations import upgrade
from services.finance.models import TABLES
from services.finance.models import database as finance_database
from shared.db import Database
from shared.revocation import RevocationList, revocation_handlers
from tests.conftest import make_settings
from tests.servers import PostgresDatabases

pytestmark = pytest.mark.postgres
HANDLE = revocation_handlers(TABLES.revocations)["identity.access.revoked"]


@pytest.fixture
def pg(tmp_path: Path, postgres_databases: PostgresDatabases) -> Iterator[Database]:
    url = postgres_databases.new_set().format(name="finance")
    upgrade("finance", url)
    yield finance_database(make_settings(tmp_path / "var", PARKHUB_DB_FINANCE=url))


def revoked(moment: datetime, *, session_id: str | None = None, reason: str = "deactivated") -> Any:
    data = {
        "subject": "user:bob",
        "session_id": session_id,
        "not_before": moment.isoformat(),
        "expires_at": (moment + timedelta(minutes=15)).isoformat(),
        "reason": reason,
    }
    return SimpleNamespace(data=data)


def handle(db: Database, event: Any) -> None:
    with db.unit_of_work() as uow:
        HANDLE(event, uow=uow)
        uow.commit()


def rows(db: Database) -> list[tuple[Any, ...]]:
    table = TABLES.revocations
    with db.reading() as session:
        return [
            tuple(r) for r in session.execute(select(table.c.kind, table.c.key, table.c.not_before, table.c.reason))
        ]


def test_the_later_cut_off_wins_in_any_order_and_twice_changes_nothing(pg: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    later, earlier = revoked(now, reason="roles_changed"), revoked(now - timedelta(minutes=5))
    for event in (later, earlier, later):
        handle(pg, event)
    assert rows(pg) == [("subject", "user:bob", now, "roles_changed")]  # the later cut-off's, never moved back

    snapshot = RevocationList(pg, refresh_seconds=0)
    assert snapshot.refuses({"sub": "user:bob", "iat": int(now.timestamp()) - 1})
    assert not snapshot.refuses({"sub": "user:bob", "iat": int(now.timestamp()) + 1})
    assert not snapshot.refuses({"sub": "user:carol", "iat": int(now.timestamp()) - 1})


def test_a_session_is_refused_whenever_its_tokens_were_issued(pg: Database) -> None:
    handle(pg, revoked(datetime.now(UTC), session_id="family-1", reason="logout"))
    snapshot = RevocationList(pg, refresh_seconds=0)
    assert snapshot.refuses({"sub": "user:bob", "sid": "family-1", "iat": int(time.time()) + 60})
    assert not snapshot.refuses({"sub": "user:bob", "sid": "family-2", "iat": int(time.time()) - 60})


def test_two_writers_of_the_same_key_at_once_both_succeed(pg: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write(offset: int) -> None:
        try:
            start.wait(10)
            handle(pg, revoked(now + timedelta(seconds=offset)))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    ((kind, key, not_before, _reason),) = rows(pg)
    assert (kind, key, not_before) == ("subject", "user:bob", now + timedelta(seconds=3))
