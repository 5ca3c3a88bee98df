"""The migrations build exactly the schema the models declare, on SQLite and on PostgreSQL."""

from __future__ import annotations

import importlib
import os
import socket
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, text

from migrations import upgrade
from shared.settings import DATABASES


def models_metadata(name: str) -> MetaData:
    module = "gateway.models" if name == "gateway" else f"services.{name}.models"
    return importlib.import_module(module).Base.metadata  # type: ignore[no-any-return]


def differences(url: str, metadata: MetaData) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


@pytest.mark.parametrize("name", DATABASES)
def test_models_and_migrations_agree_on_sqlite(name: str, tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/{name}.db"
    upgrade(name, url)
    assert differences(url, models_metadata(name)) == []


def _postgres_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def postgres_database() -> Iterator[str]:
    if not _postgres_up():
        if os.environ.get("PARKHUB_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (PARKHUB_REQUIRE_POSTGRES) but 127.0.0.1:5432 is down")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"parkhub_m{uuid.uuid4().hex[:10]}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("name", DATABASES)
def test_models_and_migrations_agree_on_postgres(name: str, postgres_database: str) -> None:
    upgrade(name, postgres_database)
    assert differences(postgres_database, models_metadata(name)) == []
