"""The journeys' rig: ``embedded`` drives a fresh embedded platform over the whole demo
(``demo_platform``: ``parkhub seed``), copied per test, its workers' jobs running every second
(PARKHUB_JOB_SECONDS) as on the distributed platform of test_distributed_journeys.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.journeys.driver import EmbeddedDriver
from tests.park import running_park


@pytest.fixture
def embedded(demo_platform: Path, tmp_path: Path) -> Iterator[EmbeddedDriver]:
    for park in running_park(demo_platform, tmp_path, PARKHUB_JOB_SECONDS="1"):
        yield EmbeddedDriver(park)
