"""A broker that cannot be reached is an outage, not a fault of each message.

The broker here is a real AMQP address nobody serves: a closed loopback port refuses at once, a
socket that listens but never speaks stays silent. Neither disturbs anyone. The outbox is
notify's database, built by its migrations.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from shared.bus.outbox import Relay, Unroutable
from shared.bus.runtime import Participant
from shared.bus.topology import Topology
from shared.bus.transport import KombuPublisher, broker_health
from shared.bus.worker import RELAY_DOWN_BACKOFF, ServiceWorker
from shared.clock import as_utc, utcnow
from shared.db import Database
from shared.settings import Settings
from tests.bus.conftest import REGISTERED, notify_database, publish
from tests.conftest import make_settings

TOPOLOGY = Topology.of({"notify": [REGISTERED]})


def closed_port() -> int:
    """A loopback port nobody listens on (bound, read and released: connecting is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def refusing(tmp_path: Path, migrated_services: Path) -> Settings:
    """Settings over fresh service databases whose broker address refuses connections."""
    var = tmp_path / "var"
    shutil.copytree(migrated_services, var)
    return make_settings(var, PARKHUB_BUS_URL=f"amqp://guest:guest@127.0.0.1:{closed_port()}//")


@pytest.fixture
def outbox(refusing: Settings) -> Database:
    return notify_database(refusing)


@pytest.fixture
def silent_broker() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel's backlog does) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def attempts(db: Database) -> list[int]:
    outbox = db.messaging.outbox
    with db.reading() as session:
        return list(session.execute(select(outbox.c.attempts).order_by(outbox.c.id)).scalars())


def test_a_refusing_broker_ends_the_pass_and_no_row_counts_an_attempt(refusing: Settings, outbox: Database) -> None:
    publish(outbox, *(f"Tenant {n}" for n in range(5)))
    publisher = KombuPublisher(refusing)
    relay = Relay(outbox, publisher, durable=True, subscribed=TOPOLOGY.subscribed_types)
    try:
        started = time.monotonic()
        done = relay.run_pass()
        elapsed = time.monotonic() - started
        again = relay.run_pass()
    finally:
        publisher.close()
    # One connection attempt ends the pass: no row is to blame, so none backs off.
    assert (done.claimed, done.published, done.postponed, done.broker_down) == (5, 0, 0, True)
    assert again.broker_down and again.postponed == 0
    assert attempts(outbox) == [0] * 5
    assert relay.next_due() is None
    assert elapsed < 1.0


def test_the_workers_relay_tries_again_every_tenth_of_a_second_to_a_second_while_the_broker_is_down(
    refusing: Settings, outbox: Database
) -> None:
    publish(outbox, "Waiting Out The Outage Ltd")
    worker = ServiceWorker(refusing, Participant("notify", outbox), topology=TOPOLOGY)
    passes: list[float] = []
    run_pass = worker.relay.run_pass

    def timed_pass() -> Any:
        passes.append(time.monotonic())
        return run_pass()

    worker.relay.run_pass = timed_pass  # type: ignore[method-assign]
    thread = threading.Thread(target=worker.run, name="notify-worker", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (not passes or passes[-1] - passes[0] < 4.0):
            time.sleep(0.05)
    finally:
        worker.stop()
        thread.join(10)
    assert not thread.is_alive(), "the worker did not stop"
    gaps = [b - a for a, b in zip(passes, passes[1:], strict=False)]
    low, high = RELAY_DOWN_BACKOFF
    assert len(gaps) >= 6, gaps
    # 0.1 s doubling to 1 s (a pass itself takes a refused connection, about 0.1 s)
    assert all(low * 0.9 <= gap <= high + 0.5 for gap in gaps), gaps
    assert attempts(outbox) == [0]


class _RefusesOne:
    """A broker that takes every event but one type's (no queue bound to it)."""

    def __init__(self, refused: str) -> None:
        self.refused = refused
        self.confirmed: list[str] = []

    def publish(self, envelope: Mapping[str, Any]) -> None:
        if envelope["data"]["name"] == self.refused:
            raise Unroutable(f"no queue is bound for {envelope['type']}")
        self.confirmed.append(envelope["id"])


def test_a_row_refused_very_many_times_backs_off_the_longest_and_the_pass_goes_on(outbox: Database) -> None:
    first, stubborn, last = publish(outbox, "Confirmed First", "Refused Forever", "Confirmed Last")
    table = outbox.messaging.outbox
    with outbox.unit_of_work() as uow:
        uow.session.execute(update(table).where(table.c.event_id == stubborn).values(attempts=60))
        uow.commit()
    broker = _RefusesOne("Refused Forever")
    relay = Relay(outbox, broker, durable=True, subscribed=TOPOLOGY.subscribed_types)
    started = utcnow()
    done = relay.run_pass()
    assert (done.published, done.postponed) == (2, 1)
    assert broker.confirmed == [first, last]
    with outbox.reading() as session:
        rows = {r.event_id: r for r in session.execute(select(table))}
    # The confirmed rows stay confirmed: a second pass publishes nothing again.
    assert rows[first].settled_at is not None and rows[last].settled_at is not None
    assert rows[stubborn].attempts == 61
    assert relay.run_pass().claimed == 0
    waits = as_utc(rows[stubborn].next_attempt_at) - started
    assert relay.max_backoff <= waits < relay.max_backoff + timedelta(seconds=5)


def test_health_reports_a_refusing_broker_down_at_once(refusing: Settings) -> None:
    started = time.monotonic()
    report = broker_health(refusing)
    assert report["status"] == "down"
    assert time.monotonic() - started < 0.5  # one try, no sleep before a second one


def test_health_reports_a_silent_broker_down_within_its_timeout(refusing: Settings, silent_broker: int) -> None:
    silent = Settings(**{**refusing.__dict__, "bus_url": f"amqp://guest:guest@127.0.0.1:{silent_broker}//"})
    started = time.monotonic()
    report = broker_health(silent)
    assert report["status"] == "down"
    assert time.monotonic() - started < 2.5
