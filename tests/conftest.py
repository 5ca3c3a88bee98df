"""Fixtures of the whole suite: settings in a temporary var/, databases built by the migrations."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrations import upgrade, upgrade_all
from shared.db import forget_databases
from shared.logs import configure_logging
from shared.settings import SERVICES, Settings
from tests.servers import POSTGRES_ADMIN_URL, PostgresDatabases, require

configure_logging("WARNING")  # request lines are noise in test output; warnings and errors stay


def make_settings(var_dir: Path, **env: str) -> Settings:
    """Embedded-mode settings under ``var_dir``, with a bus namespace of their own."""
    return Settings.from_env(
        {
            "PARKHUB_VAR_DIR": str(var_dir),
            "PARKHUB_BUS_NAMESPACE": f"t{uuid.uuid4().hex[:10]}",
            "PARKHUB_RETRY_ATTEMPTS": "3",
            "PARKHUB_RETRY_BASE_SECONDS": "0.01",
            **env,
        }
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``duration(seconds=N)`` (their usual time on the 2-CPU machine, a platform's
    start included) run first, longest first; every other test keeps its place.

    ``make test`` runs the suite three at a time (pytest-xdist, ``--maxschedchunk 1``: a worker
    is handed the next test when it finishes one), so the long tests spread over the workers at
    the start instead of one of them ending the run alone. A worker always holds the test after
    the one it runs and starts it only when that one ends, so among the fault tests the shortest
    goes second: the broker kept down 330 s starts at once with seconds of work behind it, the
    others share the other two workers, and ``make chaos`` takes about as long as that one test."""

    def expected_seconds(item: pytest.Item) -> float:
        marker = item.get_closest_marker("duration")
        return float(marker.kwargs["seconds"]) if marker is not None else 0.0

    items.sort(key=expected_seconds, reverse=True)  # stable: the others keep their order
    chaos = [item for item in items if item.get_closest_marker("chaos") is not None]
    if len(chaos) > 2 and (shortest := min(chaos, key=expected_seconds)) is not chaos[0]:  # else all alike
        items.remove(shortest)
        items.insert(items.index(chaos[0]) + 1, shortest)


@pytest.fixture(autouse=True)
def _fresh_engines() -> Iterator[None]:
    # Engines are cached per URL; every test's files are new, so no engine may outlive its test.
    yield
    forget_databases()


@pytest.fixture(scope="session")
def migrated_services(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A var/ whose service databases were built once by the migrations (copied per test)."""
    var = tmp_path_factory.mktemp("template-services")
    settings = make_settings(var)
    for name in SERVICES:
        upgrade(name, settings.database_url(name))
    return var


@pytest.fixture
def settings(tmp_path: Path, migrated_services: Path) -> Settings:
    """Settings over fresh copies of the migrated service databases."""
    var = tmp_path / "var"
    shutil.copytree(migrated_services, var)
    return make_settings(var)


@pytest.fixture(scope="session")
def seeded_platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A var/ with every database migrated and the demo data loaded (copied per test)."""
    from gateway.seed import seed

    var = tmp_path_factory.mktemp("template-platform")
    settings = make_settings(var)
    upgrade_all(settings)
    seed(settings)
    forget_databases()
    return var


@pytest.fixture(scope="session")
def demo_platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A var/ with every database migrated and the whole demo loaded (``parkhub seed``: identity,
    booking's spaces, consulting's catalogue, firms and cases, finance's products and applications),
    copied per test."""
    import argparse

    from parkhub_cli import _seed

    var = tmp_path_factory.mktemp("demo-platform")
    settings = make_settings(var)
    upgrade_all(settings)
    assert _seed(settings, argparse.Namespace()) == 0
    forget_databases()
    return var


@pytest.fixture
def park(seeded_platform: Path, tmp_path: Path) -> Iterator[Any]:
    """The whole platform, embedded, over a fresh copy of the seeded databases."""
    from tests.park import running_park

    yield from running_park(seeded_platform, tmp_path)


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    require("PostgreSQL", "PARKHUB_REQUIRE_POSTGRES", POSTGRES_ADMIN_URL, 5432)
    databases = PostgresDatabases(POSTGRES_ADMIN_URL)
    try:
        yield databases
    finally:
        from shared.db import forget_databases

        forget_databases()  # no pooled connection may hold a database being dropped
        databases.drop_all()
