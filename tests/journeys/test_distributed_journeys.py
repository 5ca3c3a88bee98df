"""The three journeys on the distributed platform: gunicorn, nginx, PostgreSQL and RabbitMQ, every
service's worker in a process of its own, so each step crosses a real broker. The journeys are the
same functions the embedded tests run (tests/journeys/<journey>.py); the workers' jobs run every
second (PARKHUB_JOB_SECONDS) so that routing and timeouts do not wait for their production period.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import BusNamespaces, PostgresDatabases, bus_namespaces, rabbitmq_url
from tests.integration.platform import running_platform
from tests.journeys import meeting, roadshow, valuation
from tests.journeys.driver import DistributedDriver

__all__ = ["bus_namespaces", "rabbitmq_url"]  # the integration rig's fixtures, used here too

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]

MODULE_BUDGET_SECONDS = 240.0


@pytest.fixture(scope="module")
def distributed(
    postgres_databases: PostgresDatabases, bus_namespaces: BusNamespaces, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DistributedDriver]:
    with running_platform(
        postgres_databases,
        bus_namespaces,
        tmp_path_factory,
        budget_seconds=MODULE_BUDGET_SECONDS,
        PARKHUB_JOB_SECONDS="1",
    ) as platform:
        yield DistributedDriver(platform)


def test_a_meeting_for_a_case(distributed: DistributedDriver) -> None:
    meeting.run(distributed)


def test_a_valuation_for_an_ip_pledge_loan(distributed: DistributedDriver) -> None:
    valuation.run(distributed)


def test_event_space_for_a_roadshow(distributed: DistributedDriver) -> None:
    roadshow.run(distributed)
