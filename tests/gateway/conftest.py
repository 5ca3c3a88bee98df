"""Fixtures of the gateway's tests: a migrated SQLite file per test, the app, tokens, factories.

The schema comes from the migrations (built once, then copied per test); the signing key is made
once per session and handed over as ``PARKHUB_SIGNING_KEY`` (generating RSA keys is slow).
Tokens for authorisation tests are minted directly from a user's row, because every password
sign-in costs a deliberate scrypt hash; the sign-in itself is tested in test_tokens.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway import tokens
from gateway.app import create_app
from gateway.keys import generate_private_pem
from gateway.models import ApiClient, User, database
from gateway.seed import seed
from migrations import upgrade
from shared.db import Database, forget_databases
from shared.settings import Settings
from tests.gateway import factories


def gateway_settings_for(var: Path, pem: bytes, **env: str) -> Settings:
    return Settings.from_env({"PARKHUB_VAR_DIR": str(var), "PARKHUB_SIGNING_KEY": pem.decode(), **env})


@pytest.fixture(scope="session")
def signing_pem() -> bytes:
    return generate_private_pem(2048)


@pytest.fixture(scope="session")
def migrated_gateway(tmp_path_factory: pytest.TempPathFactory, signing_pem: bytes) -> Path:
    """A var/ holding a gateway database built by the migrations, nothing in it."""
    var = tmp_path_factory.mktemp("gateway-migrated")
    upgrade("gateway", gateway_settings_for(var, signing_pem).database_url("gateway"))
    return var


@pytest.fixture(scope="session")
def seeded_gateway(tmp_path_factory: pytest.TempPathFactory, migrated_gateway: Path, signing_pem: bytes) -> Path:
    """The migrated database with the demo data loaded once (and its outbox emptied)."""
    var = tmp_path_factory.mktemp("gateway-seeded") / "var"
    shutil.copytree(migrated_gateway, var)
    settings = gateway_settings_for(var, signing_pem)
    seed(settings)
    db = database(settings)
    with db.unit_of_work() as uow:
        uow.session.execute(db.messaging.outbox.delete())
        uow.commit()
    forget_databases()
    return var


@pytest.fixture
def empty_settings(tmp_path: Path, migrated_gateway: Path, signing_pem: bytes) -> Settings:
    """Settings over a fresh copy of the migrated, empty gateway database."""
    shutil.copytree(migrated_gateway, tmp_path / "var")
    return gateway_settings_for(tmp_path / "var", signing_pem)


@pytest.fixture
def gateway_settings(tmp_path: Path, seeded_gateway: Path, signing_pem: bytes) -> Settings:
    """Settings over a fresh copy of the seeded gateway database."""
    shutil.copytree(seeded_gateway, tmp_path / "var")
    return gateway_settings_for(tmp_path / "var", signing_pem)


@pytest.fixture
def app(gateway_settings: Settings) -> Flask:
    return create_app(gateway_settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(gateway_settings: Settings) -> Database:
    return database(gateway_settings)


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session for looking at rows (and for the factories); closed at the end."""
    with db.session() as session:
        factories.use_session(session)
        yield session
        factories.use_session(None)


@pytest.fixture
def bearer(app: Flask, db: Database) -> Any:
    """``bearer("alice")`` → headers with a valid access token for that user or ``client:<id>``."""

    def headers(name: str, **extra: str) -> dict[str, str]:
        with db.session() as session:
            if name.startswith("client:"):
                principal: Any = session.get(ApiClient, name.removeprefix("client:"))
            else:
                principal = session.scalar(select(User).where(User.username == name))
            assert principal is not None, name
            with app.app_context():
                token = create_access_token(
                    principal.subject,
                    additional_claims=tokens.access_claims(principal),
                    additional_headers={"kid": app.extensions["parkhub.signing_key"].kid},
                )
        return {"Authorization": f"Bearer {token}", **extra}

    return headers


def count(session: Session, table: Any) -> int:
    session.rollback()  # see what other transactions committed since
    return int(session.scalar(select(func.count()).select_from(table)) or 0)
