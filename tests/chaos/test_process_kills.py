"""Processes of the distributed platform killed with -9 mid-stream lose no event and apply none twice.

A real platform (gunicorn APIs, workers, nginx, PostgreSQL, this machine's RabbitMQ in a namespace
of the test's own) takes a steady stream of organisations, reservations, cases and finance
applications through nginx while:

- each worker in turn (relay, consumers and jobs: ``parkhub worker <name>``) is killed with -9
  and started again a moment later;
- a gunicorn worker of booking's API is killed with -9 (its master starts another); then the
  gunicorn masters of booking's API and of the gateway together, started again by the test.

Afterwards, per event type: every committed operation (a 2xx, or an unanswered one whose row is in
its database) has its event in the outbox, every event is confirmed, in every subscriber's inbox
and on the probe queue, nothing is applied twice, nothing is dead-lettered
(:mod:`tests.chaos.counts`).
"""

from __future__ import annotations

import time
import uuid

import pytest

from tests.chaos import report
from tests.chaos.rig import Chaos, Stream, chaos_platform, summary, wait_until
from tests.integration.platform import WORKERS
from tests.servers import PostgresDatabases

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow, pytest.mark.chaos]

BUDGET_SECONDS = 240.0
CONVERGE_SECONDS = 60.0
DOWN_SECONDS = 1.5
"""How long a killed process stays dead: the stream keeps committing meanwhile."""


def finish(chaos: Chaos, stream: Stream, scenario: str, title: str, started: float) -> None:
    stream.stop()
    assert not stream.errors, stream.errors
    counts, took = chaos.converge(stream.ledger, CONVERGE_SECONDS)
    seconds = time.monotonic() - started
    report.record(scenario, title, counts.table(), seconds=seconds)
    print(f"\n{scenario}: {summary(counts, stream.ledger)}; converged {took:.1f} s after the stream ended")
    committed = stream.ledger.committed()
    assert len({op.kind for op in committed}) == len(Stream.KINDS) + 1, "some kind of operation never committed"
    assert not counts.problems(), "\n".join(counts.problems()[:30])


@pytest.mark.duration(seconds=170)
def test_workers_killed_one_after_another_lose_no_event(
    postgres_databases: PostgresDatabases, rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    started = time.monotonic()
    with chaos_platform(postgres_databases, rabbitmq_url, tmp_path_factory, budget_seconds=BUDGET_SECONDS) as chaos:
        chaos.mark()
        stream = Stream(chaos.platform.base_url, uuid.uuid4().hex[:6])
        stream.start()
        try:
            stream.wait_for_operations(20, 30)
            for worker in WORKERS:
                name = f"worker-{worker}"
                chaos.kill(name)
                time.sleep(DOWN_SECONDS)
                chaos.restart_worker(name)
                stream.wait_for_operations(len(stream.ledger.operations) + 8, 30)
        finally:
            stream.stop()
        finish(chaos, stream, "kill-workers", "kill -9 of every worker in turn, mid-stream", started)


@pytest.mark.duration(seconds=160)
def test_api_processes_killed_lose_no_committed_change(
    postgres_databases: PostgresDatabases, rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    started = time.monotonic()
    with chaos_platform(postgres_databases, rabbitmq_url, tmp_path_factory, budget_seconds=BUDGET_SECONDS) as chaos:
        chaos.mark()
        stream = Stream(chaos.platform.base_url, uuid.uuid4().hex[:6])
        stream.start()
        try:
            stream.wait_for_operations(20, 30)
            victim, _ = chaos.kill_gunicorn_worker("api-booking")
            wait_until(
                lambda: len(set(chaos.gunicorn_workers("api-booking")) - {victim}) == 2,
                "booking's gunicorn master to replace its killed worker",
                30,
            )
            stream.wait_for_operations(len(stream.ledger.operations) + 10, 30)
            masters = ["api-booking", "gateway"]  # booking's API and the gateway's, at once
            for name in masters:
                chaos.kill(name)
            time.sleep(DOWN_SECONDS)
            restarts = chaos.restart_apis(masters)
            stream.wait_for_operations(len(stream.ledger.operations) + 10, 30)
        finally:
            stream.stop()
        print(f"\nrestarted masters answered after {restarts}")
        title = "kill -9 of a gunicorn worker, then of two gunicorn masters at once, mid-stream"
        finish(chaos, stream, "kill-apis", title, started)
