"""Idle means idle: a platform nobody uses burns (almost) no CPU, in both run modes.

Real processes, as ``bench/idle.py`` measures them: ``parkhub serve`` on a migrated, seeded var/,
and ``parkhub worker`` on PostgreSQL and RabbitMQ. Each must stay under 5 % of one core over 3 s
once it answered and settled its start-up work (a bus spinning on its own commits took 40-60 %).
On a loaded machine start-up work can spill into a window, so the quietest of three windows in a
row counts: a process that spins is busy in all of them.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from bench.idle import SETTLE_SECONDS, distributed_env, measure_embedded, measure_workers
from tests.servers import POSTGRES_ADMIN_URL, RABBITMQ_URL, PostgresDatabases, require

pytestmark = pytest.mark.slow
LIMIT = 0.05
WINDOW_SECONDS = 3.0


@pytest.mark.duration(seconds=45)
def test_the_embedded_platform_is_idle_when_nobody_uses_it(tmp_path: Path) -> None:
    share = measure_embedded(tmp_path, WINDOW_SECONDS, windows=3, enough=LIMIT)
    assert share < LIMIT, f"parkhub serve used {share:.1%} of a core while idle"


@pytest.mark.postgres
@pytest.mark.rabbitmq
@pytest.mark.duration(seconds=100)
def test_the_distributed_workers_are_idle_when_nobody_uses_them(tmp_path: Path) -> None:
    require("PostgreSQL", "PARKHUB_REQUIRE_POSTGRES", POSTGRES_ADMIN_URL, 5432)
    require("RabbitMQ", "PARKHUB_REQUIRE_RABBITMQ", RABBITMQ_URL, 5672)
    databases = PostgresDatabases(POSTGRES_ADMIN_URL)
    try:
        env = distributed_env(tmp_path / "var", databases.new_set(), RABBITMQ_URL)
        env["PARKHUB_BUS_NAMESPACE"] = f"idle{uuid.uuid4().hex[:8]}"
        shares = measure_workers(tmp_path, env, WINDOW_SECONDS, windows=3, enough=LIMIT)
    finally:
        databases.drop_all()
    assert all(share < LIMIT for share in shares.values()), f"idle workers used {shares} of a core"


@pytest.mark.postgres
@pytest.mark.rabbitmq
@pytest.mark.duration(seconds=85)
def test_every_process_of_the_distributed_platform_is_idle_when_nobody_uses_it() -> None:
    """What ``python -m bench.idle`` reports, at the test's size: each gunicorn master and worker of
    the gateway and the four APIs, every ``parkhub worker`` and nginx's master and worker."""
    require("PostgreSQL", "PARKHUB_REQUIRE_POSTGRES", POSTGRES_ADMIN_URL, 5432)
    require("RabbitMQ", "PARKHUB_REQUIRE_RABBITMQ", RABBITMQ_URL, 5672)
    from bench import platform
    from bench.idle import measure_platform, platform_report

    with platform.distributed(workers=1) as running:
        time.sleep(SETTLE_SECONDS)
        rows = measure_platform(running, WINDOW_SECONDS, windows=3, enough=LIMIT)
    names = {row.name for row in rows}
    assert {"gateway", "api-booking", "worker-notify", "nginx"} <= names, names
    assert {row.role for row in rows if row.name == "api-booking"} == {"master", "worker"}
    busy = [row for row in rows if row.share >= LIMIT]
    assert not busy, platform_report(WINDOW_SECONDS, SETTLE_SECONDS, {"distributed": rows})
