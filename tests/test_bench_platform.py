"""The benches' platform rig (bench/platform.py) comes up and leaves nothing behind.

Distributed: fresh PostgreSQL databases, a RabbitMQ namespace, gunicorn APIs, workers and nginx; after
the context every process it started is gone, the databases are dropped and the namespace's exchange
deleted. Embedded: ``parkhub serve`` on a var/ of its own, gone after. Real servers; slow.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
import requests
from kombu import Connection

from bench.platform import POSTGRES_ADMIN_URL, RABBITMQ_URL, distributed, embedded
from tests.servers import require

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.rabbitmq]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def exchange_exists(name: str) -> bool:
    with Connection(RABBITMQ_URL, connect_timeout=5) as connection:  # type: ignore[no-untyped-call]
        channel = connection.channel()
        try:
            channel.exchange_declare(name, "topic", passive=True)
            return True
        except Exception:  # noqa: BLE001 - a passive declare of a missing exchange closes the channel
            return False


@pytest.mark.duration(seconds=85)
def test_distributed_comes_up_and_leaves_nothing_behind() -> None:
    require("PostgreSQL", "PARKHUB_REQUIRE_POSTGRES", POSTGRES_ADMIN_URL, 5432)
    require("RabbitMQ", "PARKHUB_REQUIRE_RABBITMQ", RABBITMQ_URL, 5672)
    with distributed(workers=1, bare=True) as platform:
        assert requests.get(f"{platform.base_url}/api/v1/health", timeout=10).status_code == 200
        assert requests.get(platform.bare_url, timeout=10).json() == {"service": "bare", "status": "ok"}
        for name in ("gateway", "booking", "consulting", "finance", "notify", "bare"):
            assert platform.direct[name].startswith("http://127.0.0.1:")
            assert 20000 <= int(platform.direct[name].rsplit(":", 1)[1]) <= 32000
        assert len(platform.pids("api-booking")) == 2  # master and its one worker
        assert {f"worker-{n}" for n in ("gateway", "booking", "consulting", "finance", "notify")} <= set(
            platform.processes
        )
        pids = [pid for name in platform.processes for pid in platform.pids(name)]
        databases = [url.rsplit("/", 1)[1] for url in platform.database_urls.values()]
        namespace = platform.env["PARKHUB_BUS_NAMESPACE"]
        assert exchange_exists(f"{namespace}.events")
    assert not [pid for pid in pids if alive(pid)]
    with psycopg.connect(POSTGRES_ADMIN_URL) as admin:
        left = admin.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", (databases,)).fetchall()
    assert left == []
    assert not exchange_exists(f"{namespace}.events")


def test_embedded_comes_up_and_leaves_nothing_behind() -> None:
    with embedded(bare=True) as platform:
        assert requests.get(f"{platform.base_url}/api/v1/health", timeout=10).status_code == 200
        assert requests.get(platform.bare_url, timeout=10).status_code == 200
        pids = [pid for name in platform.processes for pid in platform.pids(name)]
        folder = platform.folder
        assert (folder / "var").is_dir()
    assert not [pid for pid in pids if alive(pid)]
    assert not os.path.exists(folder)
