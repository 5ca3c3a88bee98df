"""The journeys' rig: ``embedded`` drives a fresh embedded platform over the seeded demo data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.journeys.driver import EmbeddedDriver


@pytest.fixture
def embedded(park: Any) -> Iterator[EmbeddedDriver]:
    yield EmbeddedDriver(park)
