"""The migrations build exactly the schema the models declare, on SQLite and on PostgreSQL."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine

from migrations import upgrade
from shared.settings import DATABASES
from tests.servers import PostgresDatabases


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


@pytest.mark.postgres
@pytest.mark.parametrize("name", DATABASES)
def test_models_and_migrations_agree_on_postgres(name: str, postgres_databases: PostgresDatabases) -> None:
    url = postgres_databases.new_set().format(name=name)
    upgrade(name, url)
    assert differences(url, models_metadata(name)) == []
