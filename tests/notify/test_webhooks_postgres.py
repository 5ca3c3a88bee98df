"""Webhooks on PostgreSQL, where two workers really overlap: two runs of the job at once take
disjoint deliveries (``FOR UPDATE SKIP LOCKED``), so every delivery is sent exactly once."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrations import upgrade
from services.notify.handlers.webhooks import deliver_due
from shared.db import Database
from shared.settings import Settings
from tests.booking.conftest import BANK, Api
from tests.conftest import make_settings
from tests.notify.receiver import Receiver, running_receiver
from tests.notify.test_webhooks import deliveries_of, queue, register, routed
from tests.servers import PostgresDatabases

pytestmark = pytest.mark.postgres


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    directory = tmp_path / "receiver"
    directory.mkdir()
    yield from running_receiver(directory)


@pytest.fixture
def settings(tmp_path: Path, postgres_databases: PostgresDatabases, receiver: Receiver) -> Settings:
    url = postgres_databases.new_set().format(name="notify")
    upgrade("notify", url)
    return dataclasses.replace(
        make_settings(tmp_path / "var", PARKHUB_DB_NOTIFY=url),
        webhook_allow_private=True,
        webhook_ca_bundle=str(receiver.ca_file),
        webhook_timeout_seconds=5.0,
    )


def test_two_jobs_at_once_send_every_delivery_once(
    api: Api, db: Database, settings: Settings, receiver: Receiver
) -> None:
    register(api, "bank", receiver.url)
    for _ in range(6):
        queue(db, routed(BANK))
    receiver.answer(204, delay=0.3, times=6)
    start = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        start.wait()
        counts.append(deliver_due.run(db, settings))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 6, counts
    received = receiver.wait_for(6)
    assert len(received) == 6 and len({r.headers["webhook-id"] for r in received}) == 6
    assert {d.status for d in deliveries_of(db)} == {"delivered"}
