"""A transaction PostgreSQL rolls back for another one is a 409 the client may retry, not a 503.

Real deadlocks and serialization failures on the machine's PostgreSQL (a database of this test
alone), through a test-only view that runs its handler with ``execute``: the answer is problem+json
``conflict/concurrent-change`` in the reader's language, and nothing of the refused request stays.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.views import MethodView
from sqlalchemy import text
from werkzeug.test import Client

from shared.bus.tables import define_messaging_tables
from shared.db import Database, UnitOfWork, metadata
from shared.http.app import create_service_app
from shared.http.blueprint import Blueprint
from shared.http.views import execute
from tests.conftest import make_settings
from tests.servers import PostgresDatabases

pytestmark = pytest.mark.postgres
CONCURRENT = "https://parkhub.tianfu-lifescience.cn/problems/conflict/concurrent-change"
ZH = {"Accept-Language": "zh-CN"}


class Rig:
    """A service app over a private PostgreSQL database with two counters, and the hooks its
    views wait on (bounded: a view that waits over 20 s fails)."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.database = Database("rig", url, define_messaging_tables(metadata()))
        with self.database.engine.begin() as connection:
            connection.execute(text("CREATE TABLE counters (id integer PRIMARY KEY, n integer NOT NULL)"))
            connection.execute(text("INSERT INTO counters VALUES (1, 0), (2, 0)"))
        self.both_hold_one = threading.Barrier(2, timeout=20)
        self.snapshot_taken = threading.Event()
        self.changed_meanwhile = threading.Event()
        blp = Blueprint("rig", __name__)
        rig = self

        def bump_both(order: tuple[int, int], *, uow: UnitOfWork) -> dict[str, Any]:
            first, second = order
            uow.session.execute(text("UPDATE counters SET n = n + 1 WHERE id = :id"), {"id": first})
            rig.both_hold_one.wait()  # each request holds one row and now wants the other's
            uow.session.execute(text("UPDATE counters SET n = n + 1 WHERE id = :id"), {"id": second})
            return {"bumped": [first, second]}

        def bump_from_snapshot(_command: None, *, uow: UnitOfWork) -> dict[str, Any]:
            uow.session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            seen = uow.session.execute(text("SELECT n FROM counters WHERE id = 1")).scalar_one()
            rig.snapshot_taken.set()
            assert rig.changed_meanwhile.wait(timeout=20)
            uow.session.execute(text("UPDATE counters SET n = :n WHERE id = 1"), {"n": seen + 1})
            return {"n": seen + 1}

        @blp.route("/bump/<int:first>/<int:second>", methods=["POST"])
        class Bump(MethodView):
            def post(self, first: int, second: int) -> Any:
                return execute(bump_both, (first, second))

        @blp.route("/bump-from-snapshot", methods=["POST"])
        class BumpFromSnapshot(MethodView):
            def post(self) -> Any:
                return execute(bump_from_snapshot, None)

        settings = make_settings(tmp_path / "var")
        self.app: Flask = create_service_app(
            "rig", settings=settings, database=self.database, inbox=None, blueprints=[blp], title="Rig", description=""
        )

    def client(self) -> Client:
        return Client(self.app)

    def counters(self) -> dict[int, int]:
        with self.database.engine.connect() as connection:
            return {row.id: row.n for row in connection.execute(text("SELECT id, n FROM counters"))}


@pytest.fixture
def rig(tmp_path: Path, postgres_databases: PostgresDatabases) -> Iterator[Rig]:
    rig = Rig(tmp_path, postgres_databases.new_set().format(name="booking"))
    try:
        yield rig
    finally:
        rig.database.dispose()


def test_a_deadlock_is_a_409_to_retry_and_the_winner_stays(rig: Rig) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(lambda path: rig.client().post(path, headers=ZH), ["/api/v1/rig/bump/1/2", "/api/v1/rig/bump/2/1"])
        )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 409], [answer.get_data(as_text=True) for answer in answers]
    refused = next(answer for answer in answers if answer.status_code == 409)
    assert refused.content_type == "application/problem+json"
    assert refused.json["type"] == CONCURRENT
    assert refused.json["detail"] == "另一项修改先完成了，请重试。"
    assert "Retry-After" not in refused.headers
    assert rig.counters() == {1: 1, 2: 1}  # the winner's two changes, none of the refused one's


def test_a_serialization_failure_is_a_409_to_retry(rig: Rig) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(lambda: rig.client().post("/api/v1/rig/bump-from-snapshot"))
        assert rig.snapshot_taken.wait(timeout=20)
        with psycopg.connect(
            rig.database.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        ) as other:
            other.execute("UPDATE counters SET n = 10 WHERE id = 1")
        rig.changed_meanwhile.set()
        refused = pending.result(timeout=30)
    assert refused.status_code == 409, refused.get_data(as_text=True)
    assert refused.json["type"] == CONCURRENT
    assert refused.json["detail"] == "Another change got there first; try again."
    assert rig.counters() == {1: 10, 2: 0}
