"""A service database (notify's, built by its migrations) with a test-only effects table.

The handlers here append one row to ``effects`` per call, with no idempotency of their own, so
a duplicate delivery that got past the inbox would show as a second row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import MetaData, text

from shared.bus.inbox import Inbox, RetryPolicy
from shared.bus.tables import define_messaging_tables
from shared.db import Database, UnitOfWork, database_for
from shared.events import Event
from shared.settings import Settings

REGISTERED = "identity.organisation.registered"


def notify_database(settings: Settings) -> Database:
    """notify's database (built by its migrations) as the bus sees it: its messaging tables.

    Independent of the service's own model module, which the bus has no business importing."""
    return database_for("notify", settings.database_url("notify"), define_messaging_tables(MetaData()))


@pytest.fixture
def db(settings: Settings) -> Database:
    db = notify_database(settings)
    with db.unit_of_work() as uow:
        uow.session.execute(text("CREATE TABLE effects (event_id TEXT NOT NULL, name TEXT NOT NULL)"))
        uow.commit()
    return db


class Effects:
    """A handler that records each call as a row, and can be told to fail."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.failing = False

    def __call__(self, event: Event, *, uow: UnitOfWork) -> None:
        if self.failing:
            raise RuntimeError("the partner system is down")
        uow.session.execute(
            text("INSERT INTO effects (event_id, name) VALUES (:id, :name)"),
            {"id": event.id, "name": event.data["name"]},
        )

    def rows(self) -> list[tuple[str, str]]:
        with self.db.reading() as session:
            return [tuple(r) for r in session.execute(text("SELECT event_id, name FROM effects ORDER BY rowid"))]


@pytest.fixture
def effects(db: Database) -> Effects:
    return Effects(db)


@pytest.fixture
def inbox(db: Database, effects: Effects) -> Inbox:
    return Inbox("notify", db, {REGISTERED: effects}, retry=RetryPolicy(attempts=3, base_seconds=0.0))


def organisation(name: str = "Chengdu Cell Therapeutics", **overrides: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "name": name, "kind": "tenant", "status": "active", "version": 1, **overrides}


def publish(db: Database, *names: str, correlationid: str = "req-1") -> list[str]:
    with db.unit_of_work(correlationid=correlationid) as uow:
        ids = [uow.publish(REGISTERED, organisation(name), subject=name) for name in names]
        uow.commit()
    return ids


Publish = Callable[..., list[str]]
