"""The revocations table on PostgreSQL (the distributed mode's database): the consumer's upsert
(``greatest`` there, SQLite's ``max`` elsewhere) keeps the later cut-off whatever the order, two
writers of the same key at once both succeed, and the snapshot refuses what the rows say; and the
gateway's own side of a suspension and of a new password (its rows, its refresh tokens)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.app import create_app
from gateway.keys import generate_private_pem
from gateway.seed import seed
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


@pytest.fixture
def gateway(tmp_path: Path, postgres_databases: PostgresDatabases) -> Iterator[FlaskClient]:
    """The gateway's app on a seeded PostgreSQL database, re-reading its revocations per request."""
    url = postgres_databases.new_set().format(name="gateway")
    upgrade("gateway", url)
    settings = make_settings(
        tmp_path / "var",
        PARKHUB_DB_GATEWAY=url,
        PARKHUB_SIGNING_KEY=generate_private_pem(2048).decode(),
        PARKHUB_REVOCATION_REFRESH_SECONDS="0",
    )
    seed(settings)
    yield create_app(settings).test_client()


def _sign_in(client: FlaskClient, username: str, password: str = "parkhub-demo") -> dict[str, Any]:
    form = {"grant_type": "password", "username": username, "password": password}
    response = client.post("/api/v1/auth/token", data=form)
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.json)


def _me(client: FlaskClient, token: str) -> Any:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"})


def _refreshes(client: FlaskClient, refresh_token: str) -> bool:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return client.post("/api/v1/auth/token", data=form).status_code == 200


def _patch(client: FlaskClient, admin: str, path: str, body: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {admin}"}
    read = client.get(path, headers=headers)
    response = client.patch(path, json=body, headers=headers | {"If-Match": read.headers["ETag"]})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_a_suspension_and_a_new_password_end_access_at_the_gateway_at_once(gateway: FlaskClient) -> None:
    """On PostgreSQL, the gateway's own table is written in the change's transaction (its upsert,
    its refresh-token families ended): ``/me`` refuses at once, with no bus at all."""
    admin = _sign_in(gateway, "admin")["access_token"]
    bank, bob, alice = _sign_in(gateway, "bank"), _sign_in(gateway, "bob"), _sign_in(gateway, "alice")
    bank_org = _me(gateway, bank["access_token"]).json["organisation"]["id"]
    bob_id = _me(gateway, bob["access_token"]).json["subject"].removeprefix("user:")

    _patch(gateway, admin, f"/api/v1/organisations/{bank_org}", {"status": "suspended"})
    _patch(gateway, admin, f"/api/v1/users/{bob_id}", {"password": "a-brand-new-password"})
    for signed_in in (bank, bob):
        refused = _me(gateway, signed_in["access_token"])
        assert (refused.status_code, refused.content_type) == (401, "application/problem+json")
        assert "令牌已被撤销" in refused.json["detail"]
        assert not _refreshes(gateway, signed_in["refresh_token"])
    assert _me(gateway, alice["access_token"]).status_code == 200
    assert _refreshes(gateway, alice["refresh_token"])
