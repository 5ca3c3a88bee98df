"""If-Match holds under concurrency on PostgreSQL: two changes of one organisation, user or API
client that both send ``If-Match: "1"`` and race past the version check in Python: exactly one
wins (200, version 2), the other is a 412 problem, never a lost update.

The race is made certain, not hoped for: the test holds the row's lock (``SELECT … FOR UPDATE``
in a connection of its own) while both requests run, waits until both are blocked on that lock —
each has read version 1 and passed its If-Match check by then — and lets them go. Whichever
writes second finds the row changed under it; the version in its UPDATE's WHERE clause must
refuse it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text

from gateway.app import create_app
from gateway.models import ApiClient, Organisation, User, database
from gateway.seed import seed
from migrations import upgrade
from shared.settings import Settings
from tests.gateway.conftest import gateway_settings_for
from tests.servers import PostgresDatabases

pytestmark = [pytest.mark.postgres]

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def postgres_gateway(
    postgres_databases: PostgresDatabases, tmp_path_factory: pytest.TempPathFactory, signing_pem: bytes
) -> Iterator[Settings]:
    """A seeded gateway database on this machine's PostgreSQL."""
    url = postgres_databases.new_set().format(name="gateway")
    upgrade("gateway", url)
    settings = gateway_settings_for(tmp_path_factory.mktemp("gateway-pg"), signing_pem, PARKHUB_DB_GATEWAY=url)
    seed(settings)
    yield settings


def _target(settings: Settings, kind: str) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """(table, path, one change, another change) for a fresh row of ``kind`` at version 1."""
    with database(settings).reading() as session:
        if kind == "organisation":
            row = session.scalar(select(Organisation).where(Organisation.kind == "tenant", Organisation.version == 1))
            assert row is not None
            return "organisations", f"/api/v1/organisations/{row.id}", {"name_zh": "甲"}, {"name_zh": "乙"}
        if kind == "user":
            user = session.scalar(select(User).where(User.username == "bob"))
            assert user is not None and user.version == 1
            return "users", f"/api/v1/users/{user.id}", {"display_name": "Bob A"}, {"display_name": "Bob B"}
        client = session.get(ApiClient, "shudu-bank-demo")
        assert client is not None and client.version == 1
        return "api_clients", "/api/v1/api-clients/shudu-bank-demo", {"name": "Desk A"}, {"name": "Desk B"}


def _waiting_on_locks(admin: Any, database_name: str) -> int:
    with admin.connect() as connection:
        return int(
            connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name AND wait_event_type = 'Lock'"),
                {"name": database_name},
            ).scalar_one()
        )


@pytest.mark.parametrize("kind", ["organisation", "user", "api_client"])
def test_two_changes_sent_with_the_same_if_match_one_wins_the_other_is_a_412(
    postgres_gateway: Settings, tmp_path: Path, kind: str
) -> None:
    settings = postgres_gateway
    app: Flask = create_app(settings)
    table, path, first, second = _target(settings, kind)
    url = settings.database_url("gateway")
    database_name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres")
    holder = create_engine(url)
    headers = _admin_headers(app, settings)

    def patch(body: dict[str, Any]) -> tuple[int, str, Any]:
        response = app.test_client().patch(path, json=body, headers=headers | {"If-Match": '"1"'})
        return response.status_code, response.content_type, response.json

    with holder.connect() as lock:
        key = "client_id" if table == "api_clients" else "id"
        lock.execute(text(f"SELECT 1 FROM {table} WHERE {key} = :id FOR UPDATE"), {"id": path.rsplit("/", 1)[1]})
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = [pool.submit(patch, first), pool.submit(patch, second)]
            deadline = time.monotonic() + 20
            while _waiting_on_locks(admin, database_name) < 2 and time.monotonic() < deadline:
                assert not any(a.done() for a in answers), [a.result() for a in answers if a.done()]
                threading.Event().wait(0.05)
            assert _waiting_on_locks(admin, database_name) == 2, "both changes should wait on the row's lock"
            lock.rollback()  # both go on: one writes first, the other finds the row changed
            results = sorted((a.result(timeout=30) for a in answers), key=lambda answer: answer[0])
    admin.dispose()
    holder.dispose()

    (ok_status, _, ok_body), (refused_status, refused_type, refused_body) = results
    assert (ok_status, refused_status) == (200, 412), results
    assert ok_body["version"] == 2
    assert refused_type == PROBLEM and refused_body["type"].endswith("/precondition-failed")

    read = app.test_client().get(path, headers=headers)
    assert read.headers["ETag"] == '"2"'  # one change applied, once


def _admin_headers(app: Flask, settings: Settings) -> dict[str, str]:
    from flask_jwt_extended import create_access_token

    from gateway import tokens

    with database(settings).reading() as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        with app.app_context():
            token = create_access_token(
                admin.subject,
                additional_claims=tokens.access_claims(admin),
                additional_headers={"kid": app.extensions["parkhub.signing_key"].kid},
            )
    return {"Authorization": f"Bearer {token}"}
