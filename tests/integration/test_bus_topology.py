"""The declared topology on a real RabbitMQ, with notify's database on a real PostgreSQL.

An event nobody subscribes to never reaches the broker and is counted; an event whose declared
subscriber's queue is missing is an error the health report shows and delays nobody behind it;
each handler has its own queue, and a failing handler's retries wait in its retry queue while
the other handlers go on.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from marshmallow import Schema, fields
from sqlalchemy import select, text

from migrations import upgrade
from shared.bus.deadletters import list_dead_letters
from shared.bus.inbox import Inbox, RetryPolicy
from shared.bus.outbox import Relay, backlog
from shared.bus.runtime import Participant
from shared.bus.topology import Topology
from shared.bus.transport import KombuPublisher, connect, declare
from shared.bus.worker import ServiceWorker
from shared.db import Database, UnitOfWork
from shared.events import Contract, Event, register
from shared.settings import Settings
from tests.bus.conftest import notify_database
from tests.integration.conftest import distributed_settings
from tests.integration.test_rabbitmq_transport import delete_topology, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

REGISTERED = "identity.organisation.registered"
UPDATED = "identity.organisation.updated"
# notify handles both types; finance is declared to take UPDATED, but its queue is never declared.
TOPOLOGY = Topology.of({"notify": [REGISTERED, UPDATED], "finance": [UPDATED]})


class _Unheard(Schema):
    note = fields.String(required=True)


UNHEARD = register(Contract("testing.unheard.on-rabbitmq", 1, _Unheard))


@pytest.fixture(scope="module")
def url_template(postgres_url_template: str) -> str:
    upgrade("notify", postgres_url_template.format(name="notify"))
    return postgres_url_template


@pytest.fixture
def settings(url_template: str, rabbitmq_url: str, bus_namespace: str, tmp_path: Path) -> Iterator[Settings]:
    settings = distributed_settings(url_template, rabbitmq_url, bus_namespace, tmp_path / "var")
    yield settings
    delete_topology(settings, TOPOLOGY)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    db = notify_database(settings)
    yield db
    with db.unit_of_work() as uow:
        uow.session.execute(text("TRUNCATE outbox, inbox, dead_letters"))
        uow.commit()


@pytest.fixture
def publisher(settings: Settings) -> Iterator[KombuPublisher]:
    publisher = KombuPublisher(settings)
    yield publisher
    publisher.close()


def organisation(name: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "name": name, "kind": "tenant", "status": "active", "version": 1}


def outbox_rows(db: Database) -> dict[str, Any]:
    outbox = db.messaging.outbox
    with db.reading() as session:
        return {row.event_id: row for row in session.execute(select(outbox).order_by(outbox.c.id))}


class _Counting:
    def __init__(self, inner: KombuPublisher) -> None:
        self.inner, self.calls = inner, 0

    def publish(self, envelope: Mapping[str, Any]) -> None:
        self.calls += 1
        self.inner.publish(envelope)


def test_an_event_nobody_subscribes_to_is_settled_and_counted_never_retried(
    settings: Settings, db: Database, publisher: KombuPublisher
) -> None:
    with connect(settings) as connection:
        declare(connection, settings, Topology.of({"notify": [REGISTERED, UPDATED]}))
    with db.unit_of_work() as uow:
        unheard = uow.publish(UNHEARD.type, {"note": "a reservation nobody consumes yet"})
        uow.commit()
    broker = _Counting(publisher)
    relay = Relay(db, broker, durable=True, subscribed=TOPOLOGY.subscribed_types)
    done = relay.run_pass()
    assert (done.published, done.unsubscribed, done.postponed) == (0, 1, 0)
    assert broker.calls == 0
    row = outbox_rows(db)[unheard]
    assert row.settled_at is not None and row.published_at is None and row.attempts == 0
    assert relay.run_pass().claimed == 0  # settled: never tried again
    assert backlog(db) == {"pending": 0, "oldest": None, "unroutable": 0, "unsubscribed": 1}


def test_a_bound_event_does_not_wait_behind_rows_that_cannot_be_routed(
    settings: Settings, db: Database, publisher: KombuPublisher
) -> None:
    # notify's queues exist; finance's (declared to take UPDATED) does not.
    with connect(settings) as connection:
        declare(connection, settings, Topology.of({"notify": [REGISTERED]}))
    with db.unit_of_work() as uow:
        for n in range(230):
            uow.publish(UPDATED, organisation(f"Unroutable {n}"))
        bound = uow.publish(REGISTERED, organisation("Bound Biotech"))
        uow.commit()
    relay = Relay(db, publisher, durable=True)  # no topology known: everything is published
    started = time.monotonic()

    def relay_loop_published_it() -> bool:
        relay.run_once()
        return outbox_rows(db)[bound].published_at is not None

    wait_for(relay_loop_published_it, "the bound event to be published", timeout=20)
    assert time.monotonic() - started < 10
    rows = outbox_rows(db)
    assert sum(1 for row in rows.values() if row.published_at is None and row.attempts >= 1) == 230
    health = backlog(db)
    assert health["unroutable"] == 230 and health["pending"] == 230


def test_a_failing_handler_retries_through_its_retry_queue_and_holds_back_no_other_handler(
    settings: Settings, db: Database
) -> None:
    failing_calls: list[float] = []
    handled: dict[str, float] = {}

    def failing(event: Event, *, uow: UnitOfWork) -> None:
        failing_calls.append(time.monotonic())
        raise RuntimeError("the partner system is down")

    def working(event: Event, *, uow: UnitOfWork) -> None:
        handled[event.id] = time.monotonic()

    inbox = Inbox(
        "notify", db, {REGISTERED: failing, UPDATED: working}, retry=RetryPolicy(attempts=4, base_seconds=0.4)
    )
    worker = ServiceWorker(settings, Participant("notify", db, inbox), topology=TOPOLOGY)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: worker.broker == "ok", "the worker to consume")
        with db.unit_of_work() as uow:
            uow.publish(REGISTERED, organisation("Always Failing Ltd"))
            uow.commit()
        wait_for(lambda: failing_calls, "the failing handler's first attempt")
        with db.unit_of_work() as uow:
            updated = uow.publish(UPDATED, organisation("Sichuan IP Agency"))
            uow.commit()
        published = time.monotonic()
        wait_for(lambda: updated in handled, "the other handler's event")
        assert handled[updated] - published < 1.5, "the working handler waited for the failing one"
        assert len(failing_calls) < 4
        [letter] = wait_for(lambda: list_dead_letters(inbox)[0], "the dead letter")
    finally:
        worker.stop()
        thread.join(15)
    assert not thread.is_alive()
    assert letter.attempts == 4
    gaps = [b - a for a, b in zip(failing_calls, failing_calls[1:], strict=False)]
    assert [g >= d * 0.9 for g, d in zip(gaps, (0.4, 0.8, 1.6), strict=True)] == [True] * 3


def test_migrating_from_one_queue_per_service_moves_what_waits_there_to_the_handlers_queues(
    settings: Settings, publisher: KombuPublisher
) -> None:
    from kombu import Queue

    from shared.bus.topology import Subscription
    from shared.bus.transport import events_exchange, handler_queue, retire_service_queues

    waiting = Event(type=REGISTERED, source="/parkhub/gateway", data=organisation("Waiting Ltd")).to_dict()
    with connect(settings) as connection:
        # The old topology: one queue per service, holding an event nobody consumed yet.
        old = Queue(
            f"{settings.bus_namespace}.notify",
            events_exchange(settings),
            routing_key=REGISTERED,
            durable=True,
        )
        old(connection.default_channel).declare()
        publisher.publish(waiting)
        declare(connection, settings, TOPOLOGY)
        assert retire_service_queues(connection, settings, ["notify", "finance"]) == 1
        queue = handler_queue(settings, Subscription("notify", REGISTERED))(connection.channel())
        message = wait_for(lambda: queue.get(no_ack=True), "the moved event in the handler's queue")
        assert message.payload == waiting
        assert retire_service_queues(connection, settings, ["notify"]) == 0  # gone, and idempotent


def test_migrating_keeps_a_message_no_handlers_queue_takes_in_the_old_queue(
    settings: Settings, publisher: KombuPublisher
) -> None:
    from kombu import Queue, binding

    from shared.bus.topology import Subscription
    from shared.bus.transport import events_exchange, handler_queue, retire_service_queues

    orphaned_type = "testing.orphaned.happened"  # notify has no handler for it any more
    orphan = {"type": orphaned_type, "id": str(uuid.uuid4()), "data": {}}
    waiting = Event(type=REGISTERED, source="/parkhub/gateway", data=organisation("Waiting Ltd")).to_dict()
    name = f"{settings.bus_namespace}.notify"
    with connect(settings) as connection:
        exchange = events_exchange(settings)
        old = Queue(
            name,
            bindings=[binding(exchange, routing_key=REGISTERED), binding(exchange, routing_key=orphaned_type)],
            durable=True,
        )
        old(connection.default_channel).declare()
        publisher.publish(orphan)
        publisher.publish(waiting)
        declare(connection, settings, TOPOLOGY)
        # The one with a handler's queue moves; the orphan is neither sent nowhere nor dropped.
        assert retire_service_queues(connection, settings, ["notify"]) == 1
        queue = handler_queue(settings, Subscription("notify", REGISTERED))(connection.channel())
        message = wait_for(lambda: queue.get(no_ack=True), "the moved event in the handler's queue")
        assert message.payload == waiting
        channel = connection.channel()
        left = wait_for(lambda: channel.basic_get(name, no_ack=True), "the orphan, still in the old queue")
        assert left.delivery_info["routing_key"] == orphaned_type
        channel.queue_delete(name)
        channel.close()
