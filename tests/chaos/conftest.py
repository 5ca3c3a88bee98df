"""Fixtures of the fault tests: the machine's RabbitMQ (for the scenarios that leave it alone) and
a RabbitMQ node of the test's own (for those that kill it or close its connections)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import rabbitmq_url  # noqa: F401 - a fixture, used by name
from tests.integration.test_broker_outage import PrivateRabbitMQ, private_node


@pytest.fixture
def rabbit(rabbitmq_url: str) -> Iterator[PrivateRabbitMQ]:  # noqa: F811 - the fixture above, by name
    """A RabbitMQ node of this test's own: its own ports, data dir and node name."""
    yield from private_node()
