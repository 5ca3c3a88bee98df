"""The relay's pipelined confirms on a real RabbitMQ (issue 12, item 6).

A pass writes its whole batch, then waits once for the broker's confirms; each row still gets its
own outcome. What is shown here: the rows are settled only after the broker confirmed them, and
every message is in its queue; an unroutable message in the middle of a batch is postponed alone,
its neighbours settled; a connection cut mid-batch leaves every unconfirmed row pending (not
postponed: no row is to blame), and a later pass publishes them; one batch is one confirm wait;
a pass with no row to publish does not connect.

The outbox is notify's SQLite database (what is under test is the broker's side); the broker is
this machine's RabbitMQ, in a bus namespace of this test's own, deleted at the end.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shared.bus.outbox import Relay
from shared.bus.topology import Topology
from shared.bus.transport import KombuPublisher, _ConfirmChannel, connect, declare, delete_namespace, handler_queue
from shared.db import Database
from shared.settings import Settings
from tests.bus.conftest import REGISTERED, notify_database, organisation
from tests.conftest import make_settings
from tests.integration.test_health_database_outage import TcpRelay
from tests.servers import RABBITMQ_URL, require

pytestmark = [pytest.mark.rabbitmq]

UPDATED = "identity.organisation.updated"  # a valid event no queue is bound to here
TOPOLOGY = Topology.of({"notify": [REGISTERED]})


@pytest.fixture
def broker() -> str:
    require("RabbitMQ", "PARKHUB_REQUIRE_RABBITMQ", RABBITMQ_URL, 5672)
    return RABBITMQ_URL


@pytest.fixture
def namespace(broker: str) -> Iterator[str]:
    namespace = f"relay{uuid.uuid4().hex[:10]}"
    yield namespace
    settings = Settings.from_env({"PARKHUB_BUS_URL": broker, "PARKHUB_BUS_NAMESPACE": namespace})
    with connect(settings) as connection:
        delete_namespace(connection, namespace, TOPOLOGY)


def settings_for(url: str, namespace: str, var: Path, migrated_services: Path) -> Settings:
    if not var.exists():
        shutil.copytree(migrated_services, var)
    return make_settings(var, PARKHUB_BUS_URL=url, PARKHUB_BUS_NAMESPACE=namespace)


@pytest.fixture
def settings(broker: str, namespace: str, tmp_path: Path, migrated_services: Path) -> Settings:
    settings = settings_for(broker, namespace, tmp_path / "var", migrated_services)
    with connect(settings) as connection:
        declare(connection, settings, TOPOLOGY)
    return settings


@pytest.fixture
def db(settings: Settings) -> Database:
    return notify_database(settings)


def enqueue(db: Database, count: int, *, unroutable_at: int | None = None) -> list[str]:
    """``count`` events in one transaction; the one at ``unroutable_at`` of a type nobody takes."""
    with db.unit_of_work() as uow:
        ids = [
            uow.publish(UPDATED if n == unroutable_at else REGISTERED, organisation(f"Tenant {n}"), subject=str(n))
            for n in range(count)
        ]
        uow.commit()
    return ids


def rows(db: Database) -> list[Any]:
    outbox = db.messaging.outbox
    with db.reading() as session:
        return list(session.execute(select(outbox).order_by(outbox.c.id)))


def queued(settings: Settings) -> list[str]:
    """The message ids waiting in the handler's queue, in queue order (taken off it)."""
    ids = []
    with connect(settings) as connection:
        queue = handler_queue(settings, TOPOLOGY.subscriptions[0])(connection.default_channel)
        while (message := queue.get(no_ack=True)) is not None:
            ids.append(message.properties["message_id"])
    return ids


class Recorder:
    """Watches a publisher's confirm channel: every write, every socket read, every ack."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        self.settled: Any = lambda: 0  # how many rows are settled, read at every ack
        self.settled_at_ack: list[int] = []
        self.on_write: dict[int, Any] = {}  # run after the n-th write (1-based)
        recorder = self
        original_init, original_ack = _ConfirmChannel.__init__, _ConfirmChannel._on_ack

        def init(channel: _ConfirmChannel, connection: Any) -> None:
            original_init(channel, connection)
            write, drain = channel.channel._basic_publish, channel.connection.connection.drain_events

            def publish(*args: Any, **kwargs: Any) -> Any:
                recorder.calls.append("write")
                written = write(*args, **kwargs)
                recorder.on_write.pop(recorder.calls.count("write"), lambda: None)()
                return written

            channel.channel._basic_publish = publish

            def read(timeout: float | None = None) -> Any:
                # py-amqp polls (timeout 0) before each write for a connection.blocked notice
                recorder.calls.append("poll" if timeout == 0 else "read")
                return drain(timeout=timeout)

            channel.connection.connection.drain_events = read
            channel.channel.basic_publish_confirm = lambda *a, **k: recorder.calls.append("confirm each")

        def on_ack(channel: _ConfirmChannel, tag: int, multiple: bool) -> None:
            original_ack(channel, tag, multiple)
            recorder.settled_at_ack.append(recorder.settled())

        monkeypatch.setattr(_ConfirmChannel, "__init__", init)
        monkeypatch.setattr(_ConfirmChannel, "_on_ack", on_ack)


def test_a_batch_is_written_whole_then_confirmed_once_and_settled_only_after_its_confirms(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(monkeypatch)
    recorder.settled = lambda: sum(row.settled_at is not None for row in rows(db))
    ids = enqueue(db, 150)
    publisher = KombuPublisher(settings)
    relay = Relay(db, publisher, durable=True, subscribed=TOPOLOGY.subscribed_types)
    try:
        done = relay.run_pass()
    finally:
        publisher.close()
    assert (done.claimed, done.published, done.postponed, done.broker_down) == (150, 150, 0, False)
    # One confirm wait: all 150 written before the first read that waits; no per-message confirm.
    assert publisher.confirm_waits == 1
    calls = [call for call in recorder.calls if call != "poll"]
    assert calls[:150] == ["write"] * 150
    assert set(calls[150:]) == {"read"}
    # Nothing settled while the confirms arrived (the last one included); all of it after.
    assert recorder.settled_at_ack and set(recorder.settled_at_ack) == {0}
    assert all(row.settled_at is not None and row.published_at is not None for row in rows(db))
    # Every message is in the queue, persistent, in the outbox's order.
    assert queued(settings) == ids


def test_an_unroutable_event_in_the_middle_of_a_batch_is_postponed_alone(settings: Settings, db: Database) -> None:
    ids = enqueue(db, 21, unroutable_at=10)
    publisher = KombuPublisher(settings)
    relay = Relay(db, publisher, durable=True, subscribed=None)  # None: everything goes to the broker
    try:
        done = relay.run_pass()
    finally:
        publisher.close()
    assert (done.claimed, done.published, done.postponed, done.broker_down) == (21, 20, 1, False)
    by_id = {row.event_id: row for row in rows(db)}
    stubborn = by_id[ids[10]]
    assert stubborn.settled_at is None and stubborn.published_at is None
    assert stubborn.attempts == 1 and stubborn.next_attempt_at is not None
    assert stubborn.last_error == f"Unroutable: no queue is bound for {UPDATED}"
    assert all(by_id[i].settled_at is not None and by_id[i].attempts == 0 for i in ids if i != ids[10])
    assert queued(settings) == ids[:10] + ids[11:]


def test_a_connection_cut_mid_batch_leaves_the_unconfirmed_rows_pending_and_a_later_pass_sends_them(
    settings: Settings, db: Database, tmp_path: Path, migrated_services: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = TcpRelay(("127.0.0.1", 5672))
    proxy.start()
    through = settings_for(
        f"amqp://guest:guest@127.0.0.1:{proxy.port}//", settings.bus_namespace, tmp_path / "var", migrated_services
    )
    db = notify_database(through)
    recorder = Recorder(monkeypatch)
    ids = enqueue(db, 200)
    publisher = KombuPublisher(through)
    relay = Relay(db, publisher, durable=True, subscribed=TOPOLOGY.subscribed_types)
    try:
        publisher.open()  # the connection open before the pass, as a running worker's is
        # After the 100th write the connection is cut, and new ones are refused.
        recorder.on_write[recorder.calls.count("write") + 100] = proxy.stop
        cut = relay.run_pass()
        after_cut = rows(db)
        proxy.start()
        again = relay.run_pass()
    finally:
        publisher.close()
        proxy.stop()
    # The confirms read before the cut stand (py-amqp reads what has arrived before each write);
    # every other row stays pending, none postponed: no row is to blame.
    confirmed = [row for row in after_cut if row.settled_at is not None]
    pending = [row for row in after_cut if row.settled_at is None]
    assert (cut.claimed, cut.published, cut.postponed, cut.broker_down) == (200, len(confirmed), 0, True)
    assert len(confirmed) < 100 and confirmed == after_cut[: len(confirmed)]  # a prefix of what was written
    assert all(row.published_at is None and row.attempts == 0 and row.next_attempt_at is None for row in pending)
    # The pass after the broker is back publishes exactly those.
    assert (again.claimed, again.published, again.broker_down) == (len(pending), len(pending), False)
    assert all(row.settled_at is not None for row in rows(db))
    # In the queue: every event, those written before the cut maybe twice: the inbox drops the copy.
    waiting = queued(settings)
    assert set(waiting) == set(ids) and len(waiting) <= 100 + len(ids)
    assert waiting[-len(pending) :] == ids[len(confirmed) :]


def test_a_pass_with_nothing_to_publish_does_not_touch_the_broker(settings: Settings, db: Database) -> None:
    publisher = KombuPublisher(settings)
    done = Relay(db, publisher, durable=True, subscribed=TOPOLOGY.subscribed_types).run_pass()
    assert (done.claimed, done.broker_down) == (0, False)
    assert publisher._connection is None and publisher.confirm_waits == 0


def test_the_bench_runs(broker: str) -> None:
    """bench/bus.py at a tiny size, every measure (a smoke test: no timing is asserted)."""
    from bench import bus

    results = bus.main(["--events", "30", "--repeat", "1", "--amqp", broker])
    assert set(results) == {"enqueue", "end_to_end", "relay_amqp"}
    assert results["relay_amqp"]["confirm_waits"] == 1
