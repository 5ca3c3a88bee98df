"""The journeys' rig: ``embedded`` drives a fresh embedded platform over the whole demo
(``parkhub seed``: identity, booking's spaces, consulting's catalogue and firms, finance's
products), copied per test, its workers' jobs running every second (PARKHUB_JOB_SECONDS) as on
the distributed platform of test_distributed_journeys.py."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrations import upgrade_all
from parkhub_cli import _seed
from shared.db import forget_databases
from tests.conftest import make_settings
from tests.journeys.driver import EmbeddedDriver
from tests.park import running_park


@pytest.fixture(scope="session")
def demo_platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A var/ with every database migrated and ``parkhub seed`` run (copied per test)."""
    var = tmp_path_factory.mktemp("demo-platform")
    settings = make_settings(var)
    upgrade_all(settings)
    assert _seed(settings, argparse.Namespace()) == 0
    forget_databases()
    return var


@pytest.fixture
def embedded(demo_platform: Path, tmp_path: Path) -> Iterator[EmbeddedDriver]:
    for park in running_park(demo_platform, tmp_path, PARKHUB_JOB_SECONDS="1"):
        yield EmbeddedDriver(park)
