"""The broker fails mid-stream and the distributed platform loses no event and applies none twice.

Each test runs a RabbitMQ node of its own (tests/integration/test_broker_outage.py's
``PrivateRabbitMQ``: its own ports, data dir, node name) under a whole distributed platform
(gunicorn, workers, nginx, fresh PostgreSQL databases) and a steady stream of organisations,
reservations, cases and finance applications through nginx (:class:`tests.chaos.rig.Stream`):

- **broker down for minutes**: the node is killed with -9 and kept down longer than every
  reconnect budget (``PARKHUB_CHAOS_BROKER_DOWN_SECONDS``, 330 by default); the APIs keep
  committing into their outboxes, ``/api/v1/health`` reports the bus down (503) all along; the
  node is started again on the same ports and data dir, and publishers and consumers come back by
  themselves within a bounded time;
- **connections closed**: ``rabbitmqctl close_all_connections`` against the node, twice; every
  publisher and consumer reconnects.

Then the counts of :mod:`tests.chaos.counts` must hold per event type: every committed change's
event is confirmed, in every subscriber's inbox and on the probe queue, applied once, and nothing
is dead-lettered.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from typing import Any

import pytest

from tests.chaos import report
from tests.chaos.rig import Chaos, Stream, chaos_platform, summary, wait_until
from tests.integration.platform import WORKERS
from tests.integration.test_broker_outage import PrivateRabbitMQ
from tests.servers import PostgresDatabases

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow, pytest.mark.chaos]

BROKER_DOWN_SECONDS = float(os.environ.get("PARKHUB_CHAOS_BROKER_DOWN_SECONDS", "330"))
"""How long the broker stays dead: longer than every reconnect budget the platform ever had
(kombu's default, 10 tries over about 110 s; a relay row's back-off, up to 5 minutes)."""
RECOVERY_SECONDS = 180.0
"""The bound on everything reaching everyone after the broker's return: the backlog of minutes of
stream (about a thousand events, every one handled by notify) on a machine other tests share;
measured alone: about 50 s."""
HEALTH_EVERY_SECONDS = 5.0


def close_all_connections(node: PrivateRabbitMQ) -> None:
    """``rabbitmqctl close_all_connections`` against the test's node (by its node name; as root the
    command runs as the rabbitmq user, whose Erlang cookie the node shares)."""
    done = subprocess.run(
        ["rabbitmqctl", "-n", node.name, "close_all_connections", "chaos test"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


def connections(node: PrivateRabbitMQ) -> set[str]:
    """The node's AMQP connections, by their client ports."""
    done = subprocess.run(
        ["rabbitmqctl", "-n", node.name, "list_connections", "-q", "--no-table-headers", "peer_port"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    return {line.strip() for line in done.stdout.decode().splitlines() if line.strip()}


def bus_status(chaos: Chaos) -> tuple[int, Any]:
    status, body = chaos.health()
    return status, (body.get("bus") or {}).get("status")


def finish(chaos: Chaos, stream: Stream, scenario: str, title: str, started: float, timeout: float) -> float:
    stream.stop()
    assert not stream.errors, stream.errors
    counts, took = chaos.converge(stream.ledger, timeout)
    report.record(scenario, title, counts.table(), seconds=time.monotonic() - started)
    print(f"\n{scenario}: {summary(counts, stream.ledger)}; converged {took:.1f} s after the stream ended")
    assert len({op.kind for op in stream.ledger.committed()}) == len(Stream.KINDS) + 1
    assert not counts.problems(), "\n".join(counts.problems()[:30])
    return took


@pytest.mark.duration(seconds=150)
def test_all_connections_closed_mid_stream_lose_no_event(
    postgres_databases: PostgresDatabases, rabbit: PrivateRabbitMQ, tmp_path_factory: pytest.TempPathFactory
) -> None:
    started = time.monotonic()
    with chaos_platform(postgres_databases, rabbit.url, tmp_path_factory, budget_seconds=240) as chaos:
        chaos.mark()
        stream = Stream(chaos.platform.base_url, uuid.uuid4().hex[:6])
        stream.start()
        reconnected: list[float] = []
        try:
            stream.wait_for_operations(25, 40)
            for _ in range(2):
                before = connections(rabbit)
                assert len(before) >= len(WORKERS), before  # every worker consumes (and publishes)
                close_all_connections(rabbit)
                closed = time.monotonic()
                # Every worker is connected again, by new connections (new client ports).
                wait_until(
                    lambda before=before: len(connections(rabbit) - before) >= len(WORKERS),
                    "the workers to reconnect",
                    30,
                )
                reconnected.append(time.monotonic() - closed)
                stream.wait_for_operations(len(stream.ledger.operations) + 25, 40)
        finally:
            stream.stop()
        finish(chaos, stream, "close-connections", "rabbitmqctl close_all_connections, twice, mid-stream", started, 60)
        print(f"every worker connected again {', '.join(f'{s:.1f}' for s in reconnected)} s after each close")


@pytest.mark.duration(seconds=540)
def test_a_broker_down_for_minutes_loses_no_event(
    postgres_databases: PostgresDatabases, rabbit: PrivateRabbitMQ, tmp_path_factory: pytest.TempPathFactory
) -> None:
    started = time.monotonic()
    budget = BROKER_DOWN_SECONDS + 300
    with chaos_platform(postgres_databases, rabbit.url, tmp_path_factory, budget_seconds=budget) as chaos:
        chaos.mark()
        # A slower stream: minutes of it, while two other fault tests may share the machine.
        stream = Stream(chaos.platform.base_url, uuid.uuid4().hex[:6], pause=0.3)
        stream.start()
        try:
            stream.wait_for_operations(25, 40)
            rabbit.kill()
            killed = time.monotonic()
            before = len(stream.ledger.committed())
            # Health sees the outage at once, and all along.
            wait_until(lambda: bus_status(chaos) == (503, "down"), "health to report the bus down", 15)
            seen = 0
            while time.monotonic() - killed < BROKER_DOWN_SECONDS:
                assert bus_status(chaos) == (503, "down")
                seen += 1
                time.sleep(HEALTH_EVERY_SECONDS)
            during = len(stream.ledger.committed()) - before
            back = rabbit.start()
            wait_until(lambda: bus_status(chaos) == (200, "ok"), "health to report the bus up again", 30)
            health_back = time.monotonic() - back
            stream.wait_for_operations(len(stream.ledger.operations) + 25, 60)
        finally:
            stream.stop()
        took = finish(
            chaos,
            stream,
            "broker-down",
            f"RabbitMQ killed with -9 and kept down {BROKER_DOWN_SECONDS:.0f} s, mid-stream, then restarted",
            started,
            RECOVERY_SECONDS,
        )
        print(
            f"broker down {BROKER_DOWN_SECONDS:.0f} s: {during} operations committed meanwhile, health said down"
            f" {seen} times, up {health_back:.1f} s after the node's return; converged {took:.1f} s after the"
            f" stream ended ({time.monotonic() - back:.1f} s after the return)"
        )
        assert during > 0, "nothing was committed while the broker was down"
