"""The distributed bus on a real RabbitMQ, with notify's database on a real PostgreSQL.

What only the broker can show: a message no queue takes comes back (``mandatory``) and stays in
the outbox; messages are persistent on durable queues; a service worker acks only after its inbox
committed, handles a duplicate once, and parks a message it cannot handle until it is replayed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from amqp.exceptions import PreconditionFailed
from sqlalchemy import select, text

from migrations import upgrade
from shared.bus.deadletters import list_dead_letters, replay
from shared.bus.inbox import Inbox, Outcome, RetryPolicy
from shared.bus.outbox import Relay, Unroutable, backlog
from shared.bus.runtime import SAFETY_SECONDS, Participant
from shared.bus.topology import Subscription, Topology
from shared.bus.transport import KombuPublisher, connect, declare, handler_queue
from shared.bus.worker import ServiceWorker
from shared.db import Database, UnitOfWork
from shared.events import Event
from shared.settings import Settings
from tests.bus.conftest import notify_database
from tests.integration.conftest import distributed_settings
from tests.integration.test_health_database_outage import TcpRelay

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

REGISTERED = "identity.organisation.registered"
TOPOLOGY = Topology.of({"notify": [REGISTERED]})
WAIT_SECONDS = 15.0


def delete_topology(settings: Settings, topology: Topology) -> None:
    """Remove a test's handler and retry queues from the broker (the session drops the exchange)."""
    with connect(settings) as connection:
        channel = connection.channel()
        for subscription in topology.subscriptions:
            channel.queue_delete(subscription.queue(settings.bus_namespace))
            channel.queue_delete(subscription.retry_queue(settings.bus_namespace))


@pytest.fixture(scope="module")
def notify_url_template(postgres_url_template: str) -> str:
    upgrade("notify", postgres_url_template.format(name="notify"))
    return postgres_url_template


@pytest.fixture
def settings(notify_url_template: str, rabbitmq_url: str, bus_namespace: str, tmp_path: Path) -> Iterator[Settings]:
    settings = distributed_settings(notify_url_template, rabbitmq_url, bus_namespace, tmp_path / "var")
    yield settings
    delete_topology(settings, TOPOLOGY)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    db = notify_database(settings)
    with db.unit_of_work() as uow:
        uow.session.execute(
            text("CREATE TABLE effects (id SERIAL PRIMARY KEY, event_id TEXT NOT NULL, name TEXT NOT NULL)")
        )
        uow.commit()
    yield db
    with db.unit_of_work() as uow:
        uow.session.execute(text("DROP TABLE effects"))
        uow.session.execute(text("TRUNCATE outbox, inbox, dead_letters, directory_organisations"))
        uow.commit()


class Effects:
    """A handler with no idempotency of its own: one row per call, so a duplicate would show."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.failing = False
        self.entered = threading.Event()
        self.release: threading.Event | None = None

    def __call__(self, event: Event, *, uow: UnitOfWork) -> None:
        self.entered.set()
        if self.release is not None and not self.release.wait(WAIT_SECONDS):
            raise TimeoutError("the test never released the handler")
        if self.failing:
            raise RuntimeError("the partner system is down")
        uow.session.execute(
            text("INSERT INTO effects (event_id, name) VALUES (:id, :name)"),
            {"id": event.id, "name": event.data["name"]},
        )

    def rows(self) -> list[tuple[str, str]]:
        with self.db.reading() as session:
            return [
                (r.event_id, r.name) for r in session.execute(text("SELECT event_id, name FROM effects ORDER BY id"))
            ]


@pytest.fixture
def effects(db: Database) -> Effects:
    return Effects(db)


@pytest.fixture
def inbox(db: Database, effects: Effects) -> Inbox:
    return Inbox("notify", db, {REGISTERED: effects}, retry=RetryPolicy(attempts=3, base_seconds=0.01))


@pytest.fixture
def publisher(settings: Settings) -> Iterator[KombuPublisher]:
    publisher = KombuPublisher(settings)
    yield publisher
    publisher.close()


@pytest.fixture
def topology(settings: Settings) -> None:
    """notify's durable handler queue, bound to what it consumes, and its retry queue."""
    with connect(settings) as connection:
        declare(connection, settings, TOPOLOGY)


@pytest.fixture
def running_worker(settings: Settings, db: Database, inbox: Inbox, topology: None) -> Iterator[ServiceWorker]:
    worker = ServiceWorker(settings, Participant("notify", db, inbox), topology=TOPOLOGY)
    thread = threading.Thread(target=worker.run, name="notify-worker", daemon=True)
    thread.start()
    yield worker
    worker.stop()
    thread.join(WAIT_SECONDS)
    assert not thread.is_alive(), "the worker did not stop"


def organisation(name: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "name": name, "kind": "tenant", "status": "active", "version": 1}


def publish_through_outbox(db: Database, name: str) -> str:
    with db.unit_of_work(correlationid="req-it") as uow:
        event_id = uow.publish(REGISTERED, organisation(name), subject=name)
        uow.commit()
    return event_id


def envelope_of(name: str) -> dict[str, Any]:
    return Event(type=REGISTERED, source="/parkhub/gateway", data=organisation(name)).to_dict()


def outbox_row(db: Database, event_id: str) -> Any:
    outbox = db.messaging.outbox
    with db.reading() as session:
        return session.execute(select(outbox).where(outbox.c.event_id == event_id)).one()


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")


def queue_counts(settings: Settings) -> tuple[int, int]:
    """(ready, unacknowledged) messages on notify's handler queue, as the broker itself counts them."""
    name = Subscription("notify", REGISTERED).queue(settings.bus_namespace)
    listing = subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "list_queues",
            "--formatter",
            "json",
            "name",
            "messages_ready",
            "messages_unacknowledged",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    [queue] = [q for q in json.loads(listing.stdout) if q["name"] == name]
    return int(queue["messages_ready"]), int(queue["messages_unacknowledged"])


def test_a_subscribed_type_whose_queue_is_missing_is_unroutable_stays_in_the_outbox_and_health_shows_it(
    settings: Settings, db: Database, publisher: KombuPublisher
) -> None:
    with pytest.raises(Unroutable):
        publisher.publish(envelope_of("Nobody Listens Ltd"))

    event_id = publish_through_outbox(db, "Chengdu Cell Therapeutics")
    relay = Relay(db, publisher, durable=True, subscribed=TOPOLOGY.subscribed_types)
    assert relay.run_once() == 0
    row = outbox_row(db, event_id)
    assert row.published_at is None and row.settled_at is None
    assert row.attempts == 1
    assert "no queue is bound" in row.last_error
    assert row.next_attempt_at > datetime.now(UTC)
    # A subscriber is declared, so this is an error the health report shows.
    assert backlog(db)["unroutable"] == 1

    # Once the consumer's queue exists the relay delivers it on a later pass.
    with connect(settings) as connection:
        declare(connection, settings, TOPOLOGY)
    wait_for(relay.run_once, "the relay to publish the postponed row")
    row = outbox_row(db, event_id)
    assert row.published_at is not None and row.settled_at is not None
    assert row.last_error is None
    assert backlog(db)["unroutable"] == 0


def test_messages_are_persistent_on_a_durable_queue(
    settings: Settings, publisher: KombuPublisher, topology: None
) -> None:
    envelope = envelope_of("Tianfu Bio-Imaging AI")
    publisher.publish(envelope)
    with connect(settings) as connection:
        queue = handler_queue(settings, Subscription("notify", REGISTERED))(connection.default_channel)
        message = wait_for(lambda: queue.get(no_ack=False), "the message on notify's queue")
        assert message.properties["delivery_mode"] == 2
        assert message.properties["message_id"] == envelope["id"]
        assert json.loads(message.body) == envelope
        message.ack()
        # The broker refuses to see the queue as anything but durable.
        transient = handler_queue(settings, Subscription("notify", REGISTERED))
        transient.durable = False
        with pytest.raises(PreconditionFailed):
            transient(connection.channel()).declare()


def test_a_worker_relays_consumes_and_handles_a_duplicated_event_once(
    settings: Settings, db: Database, effects: Effects, publisher: KombuPublisher, running_worker: ServiceWorker
) -> None:
    first = publish_through_outbox(db, "Chengdu Cell Therapeutics")
    wait_for(effects.rows, "the worker to handle the event from the outbox")
    # The relay marks the row after the broker's confirm, which may come after the handler ran.
    row = wait_for(lambda: (r := outbox_row(db, first)).settled_at and r, "the relay to settle the row")
    assert row.published_at is not None

    # The relay publishing again after a crash, and the broker redelivering, look like this.
    duplicate = json.loads(row.envelope)
    publisher.publish(duplicate)
    publisher.publish(duplicate)
    later = envelope_of("Sichuan IP Agency")
    publisher.publish(later)  # one handler's queue, one consumer: handled after both duplicates
    wait_for(lambda: len(effects.rows()) >= 2, "the later event")
    assert effects.rows() == [(first, "Chengdu Cell Therapeutics"), (later["id"], "Sichuan IP Agency")]
    with db.reading() as session:
        assert session.execute(text("SELECT count(*) FROM inbox")).scalar_one() == 2
    wait_for(lambda: queue_counts(settings) == (0, 0), "every message to be acked")
    # What the container's health check reads: the relay loop keeps touching it. An idle loop
    # sleeps up to SAFETY_SECONDS between passes, so that is the file's age at the worst (the
    # check allows 30 s), with a margin for a loaded machine.
    assert time.time() - running_worker.heartbeat.stat().st_mtime < SAFETY_SECONDS + 5


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl beside the broker")
def test_a_worker_acks_only_after_its_inbox_committed(
    settings: Settings, effects: Effects, publisher: KombuPublisher, running_worker: ServiceWorker
) -> None:
    effects.release = threading.Event()
    envelope = envelope_of("Chengdu Legal Partners")
    publisher.publish(envelope)
    assert effects.entered.wait(WAIT_SECONDS)
    # Mid-handling: nothing committed, and the broker still holds the message for redelivery.
    assert effects.rows() == []
    assert queue_counts(settings) == (0, 1)
    effects.release.set()
    wait_for(effects.rows, "the handler to commit")
    wait_for(lambda: queue_counts(settings) == (0, 0), "the ack")
    assert effects.rows() == [(envelope["id"], "Chengdu Legal Partners")]


def test_a_failing_handler_dead_letters_after_its_retries_and_replay_delivers_it(
    settings: Settings, inbox: Inbox, effects: Effects, publisher: KombuPublisher, running_worker: ServiceWorker
) -> None:
    effects.failing = True
    envelope = envelope_of("Tianfu Guarantee Co.")
    publisher.publish(envelope)
    letters = wait_for(lambda: list_dead_letters(inbox)[0], "the dead letter")
    [letter] = letters
    assert letter.event_id == envelope["id"]
    assert letter.attempts == 3
    assert "the partner system is down" in letter.error
    assert effects.rows() == []

    effects.failing = False
    assert replay(inbox, letter.id, by="desk") is Outcome.HANDLED
    assert effects.rows() == [(envelope["id"], "Tianfu Guarantee Co.")]
    assert list_dead_letters(inbox)[0] == []
    [replayed], _ = list_dead_letters(inbox, include_replayed=True)
    assert replayed.replayed_at is not None
    # Delivered again by the broker after the replay: still one effect.
    publisher.publish(envelope)
    marker = envelope_of("Marker Ltd")
    publisher.publish(marker)
    wait_for(lambda: len(effects.rows()) == 2, "the marker")
    assert [event_id for event_id, _ in effects.rows()] == [envelope["id"], marker["id"]]


def counting_deliveries(inbox: Inbox) -> list[int]:
    """Record the attempt of every delivery the worker makes to ``inbox`` (it calls the instance's
    ``deliver`` at each message, so wrapping it after the worker started counts them all)."""
    attempts: list[int] = []
    deliver = inbox.deliver

    def counted(body: Any, *, attempt: int = 1, dead_letter_id: int | None = None) -> Outcome:
        attempts.append(attempt)
        return deliver(body, attempt=attempt, dead_letter_id=dead_letter_id)

    inbox.deliver = counted  # type: ignore[method-assign]
    return attempts


def test_a_retry_that_cannot_be_scheduled_does_not_loop_and_the_worker_recovers_its_retry_queue(
    settings: Settings, inbox: Inbox, effects: Effects, publisher: KombuPublisher, running_worker: ServiceWorker
) -> None:
    wait_for(lambda: running_worker.broker == "ok", "the consumer")
    deliveries = counting_deliveries(inbox)
    effects.failing = True
    with connect(settings) as connection:  # the retry queue goes away under the running worker
        connection.default_channel.queue_delete(Subscription("notify", REGISTERED).retry_queue(settings.bus_namespace))
    envelope = envelope_of("Retry Queue Gone Ltd")
    publisher.publish(envelope)
    # The failed scheduling drops the consumer's connection: the broker requeues the message, the
    # consumer reconnects (at most once a second), declares the retry queue again, and the event
    # takes its retries to the dead letter. Requeued at once instead, it came back thousands of
    # times a second with its first attempt, forever.
    letters = wait_for(lambda: list_dead_letters(inbox)[0], "the dead letter", timeout=8)
    assert [(letter.event_id, letter.attempts) for letter in letters] == [(envelope["id"], 3)]
    assert deliveries == [1, 1, 2, 3]  # the unscheduled attempt came back once, uncounted


def test_a_worker_whose_database_is_away_keeps_the_message_without_counting_attempts(
    notify_url_template: str,
    settings: Settings,
    db: Database,
    effects: Effects,
    publisher: KombuPublisher,
    topology: None,
    tmp_path: Path,
) -> None:
    server = urlsplit(notify_url_template.replace("postgresql+psycopg", "postgresql"))
    tcp = TcpRelay((server.hostname or "127.0.0.1", server.port or 5432))
    tcp.start()
    through = notify_url_template.format(name="notify").replace(
        f"@{server.netloc.split('@')[-1]}/", f"@127.0.0.1:{tcp.port}/"
    )
    assert str(tcp.port) in through
    worker_settings = distributed_settings(
        notify_url_template,
        settings.bus_url,
        settings.bus_namespace,
        tmp_path / "worker-var",
        PARKHUB_DB_NOTIFY=through,
    )
    worker_db = notify_database(worker_settings)
    inbox = Inbox(
        "notify", worker_db, {REGISTERED: Effects(worker_db)}, retry=RetryPolicy(attempts=3, base_seconds=0.05)
    )
    deliveries = counting_deliveries(inbox)
    worker = ServiceWorker(worker_settings, Participant("notify", worker_db, inbox), topology=TOPOLOGY)
    thread = threading.Thread(target=worker.run, name="notify-worker", daemon=True)
    thread.start()
    try:
        wait_for(lambda: worker.broker == "ok", "the consumer")
        tcp.stop()  # the database goes away
        envelope = envelope_of("Waits For Its Database Ltd")
        publisher.publish(envelope)
        # More deliveries than the policy's three attempts, none of them counted.
        wait_for(
            lambda: len(deliveries) > 2 * inbox.retry.attempts, "the message to come back while the database is away"
        )
        assert set(deliveries) == {1}
        assert effects.rows() == []
        tcp.start()  # the database is back
        wait_for(effects.rows, "the event once the database is back")
        assert list_dead_letters(inbox)[0] == []
        wait_for(lambda: queue_counts(settings) == (0, 0), "every message to be acked")
    finally:
        worker.stop()
        thread.join(WAIT_SECONDS)
        tcp.stop()
    assert not thread.is_alive(), "the worker did not stop"
    assert effects.rows() == [(envelope["id"], "Waits For Its Database Ltd")]
