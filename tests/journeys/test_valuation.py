"""Journey 2 on the embedded platform: a valuation for an IP-pledge loan, and its failure path.

The journey needs the whole demo (``parkhub seed``: finance's products, consulting's catalogue and
firms), not only the identity the shared ``park`` fixture seeds: this module's ``demo`` runs over it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrations import upgrade_all
from parkhub_cli import _seed
from shared.db import forget_databases
from tests.conftest import make_settings
from tests.journeys import valuation
from tests.journeys.driver import EmbeddedDriver
from tests.park import Park, running_park


@pytest.fixture(scope="module")
def demo_platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A var/ with every database migrated and ``parkhub seed`` run (copied per test)."""
    var = tmp_path_factory.mktemp("valuation-journey")
    settings = make_settings(var)
    upgrade_all(settings)
    assert _seed(settings, argparse.Namespace()) == 0
    forget_databases()
    return var


@pytest.fixture
def demo(demo_platform: Path, tmp_path: Path) -> Iterator[EmbeddedDriver]:
    park: Park
    for park in running_park(demo_platform, tmp_path):
        yield EmbeddedDriver(park)


def test_a_valuation_for_an_ip_pledge_loan(demo: EmbeddedDriver) -> None:
    valuation.run(demo)


def test_a_cancelled_valuation_case_is_shown_and_the_desk_asks_again(demo: EmbeddedDriver) -> None:
    valuation.run_failure(demo)
