"""A poison event: one event its handler always fails on, among healthy events of the same type.

On both transports (the embedded bus, and a real RabbitMQ with notify's database on PostgreSQL):

- the poison goes through its retries and then to the dead letters, with every attempt counted;
- the events published right behind it, on the same handler's queue, are handled meanwhile:
  all of them before the poison's retries end (a poison must not block its queue);
- after "the fix" (the handler no longer fails), replaying the service's dead letters (what
  ``parkhub dead-letters replay notify`` runs: :func:`shared.bus.deadletters.replay_all`)
  handles the poison exactly once; a second replay, and the broker delivering the poison once
  more, change nothing; no healthy event is ever handled twice.

The handler keeps one row per call in its own table, with no idempotency of its own, so any
duplicate that got past the inbox would show as a second row. The counts go to the chaos report
(tests/chaos/report.py) for docs/RELIABILITY.md.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, text

from migrations import upgrade
from shared.bus.deadletters import list_dead_letters, replay_all
from shared.bus.embedded_bus import EmbeddedBus
from shared.bus.inbox import Inbox, Outcome, RetryPolicy
from shared.bus.runtime import Participant
from shared.bus.tables import define_messaging_tables
from shared.bus.topology import Topology
from shared.bus.transport import KombuPublisher, connect, declare
from shared.bus.worker import ServiceWorker
from shared.db import Database, UnitOfWork, database_for
from shared.events import Event
from shared.settings import Settings
from tests.bus.conftest import REGISTERED, organisation
from tests.chaos.report import record
from tests.integration.conftest import (  # noqa: F401 - fixtures of the real servers, used by name
    bus_namespace,
    bus_namespaces,
    distributed_settings,
    postgres_url_template,
    rabbitmq_url,
)

pytestmark = [pytest.mark.chaos]

POISON = "Poison Pill Holdings"
HEALTHY = 20
RETRY = RetryPolicy(attempts=4, base_seconds=0.6)
"""Four attempts, 0.6 + 1.2 + 2.4 s apart: 4.2 s from the first attempt to the dead letter, long
enough to see whether the events behind the poison wait for it (they take well under a second,
a few on a loaded machine)."""
TOPOLOGY = Topology.of({"notify": [REGISTERED]})
WAIT_SECONDS = 30.0


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.02)
    raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")


class PoisonableHandler:
    """notify's handler of organisation events for this test: fails on the poison while
    ``poisoned``, and keeps one row per successful call in ``poison_effects`` (no idempotency
    of its own). It also notes the time of every call, for the ordering the test asserts."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.poisoned = True
        self.poison_attempts: list[float] = []
        self.handled_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Event, *, uow: UnitOfWork) -> None:
        now = time.monotonic()
        if event.data["name"] == POISON:
            with self._lock:
                self.poison_attempts.append(now)
            if self.poisoned:
                raise ValueError("notify cannot render a notice for this organisation")
        uow.session.execute(
            text("INSERT INTO poison_effects (event_id, name) VALUES (:id, :name)"),
            {"id": event.id, "name": event.data["name"]},
        )
        with self._lock:
            self.handled_at.setdefault(event.id, now)

    def rows(self) -> list[tuple[str, str]]:
        with self.db.reading() as session:
            return [(r.event_id, r.name) for r in session.execute(text("SELECT event_id, name FROM poison_effects"))]


def create_effects(db: Database, *, serial: str) -> None:
    with db.unit_of_work() as uow:
        uow.session.execute(
            text(f"CREATE TABLE poison_effects (id {serial} PRIMARY KEY, event_id TEXT NOT NULL, name TEXT NOT NULL)")
        )
        uow.commit()


def publish(db: Database, names: list[str]) -> list[str]:
    """Publish one organisation event per name through notify's outbox, in order, one commit."""
    with db.unit_of_work(correlationid="poison-test") as uow:
        ids = [uow.publish(REGISTERED, organisation(name), subject=name) for name in names]
        uow.commit()
    return ids


def poison_scenario(
    transport: str,
    db: Database,
    running: Callable[[Inbox], AbstractContextManager[Any]],
    redeliver: Callable[[Inbox, dict[str, Any]], None],
) -> None:
    """The scenario of the module docstring on one transport. ``running(inbox)`` runs notify's
    consumer while the block runs; ``redeliver(inbox, envelope)`` hands it one message again."""
    handler = PoisonableHandler(db)
    inbox = Inbox("notify", db, {REGISTERED: handler}, retry=RETRY)
    started = time.monotonic()
    with running(inbox):
        [poison, *healthy] = publish(db, [POISON, *(f"Healthy Tenant {n:02d}" for n in range(HEALTHY))])
        published = time.monotonic()
        wait_for(lambda: len(handler.handled_at) == HEALTHY, "every healthy event behind the poison")
        healthy_done = time.monotonic()
        [letter] = wait_for(lambda: list_dead_letters(inbox)[0], "the poison's dead letter")
        dead_lettered = time.monotonic()
        attempts_before_fix = len(handler.poison_attempts)

        # Not blocked: every event behind the poison was handled before its retries ended.
        assert letter.event_id == poison and letter.attempts == RETRY.attempts
        assert "cannot render a notice" in letter.error
        assert attempts_before_fix == RETRY.attempts
        last_healthy = max(handler.handled_at.values())
        assert last_healthy < handler.poison_attempts[-1], "the healthy events waited for the poison's retries"
        assert set(handler.handled_at) == set(healthy)

        # The fix, then `parkhub dead-letters replay notify`.
        handler.poisoned = False
        assert replay_all(inbox, by="cli") == {letter.id: Outcome.HANDLED}
        assert replay_all(inbox, by="cli") == {}  # nothing left to replay
        # The broker delivering the poison once more (a relay retry, a redelivery) is a duplicate.
        redeliver(inbox, letter.envelope)
        marker = publish(db, ["Marker After The Fix"])[0]
        wait_for(lambda: marker in handler.handled_at, "the marker after the fix")

    calls = Counter(event_id for event_id, _name in handler.rows())
    assert calls[poison] == 1, "the poison was handled exactly once, by the replay"
    assert all(calls[event_id] == 1 for event_id in healthy), "no healthy event was handled twice"
    assert sum(calls.values()) == HEALTHY + 2
    assert len(handler.poison_attempts) == RETRY.attempts + 1  # the retries, and the replay
    [replayed], _ = list_dead_letters(inbox, include_replayed=True)
    assert replayed.replayed_at is not None
    record(
        f"poison_event_{transport}",
        f"A poison event among {HEALTHY} healthy ones ({transport})",
        [
            {
                "transport": transport,
                "healthy published behind the poison": HEALTHY,
                "healthy handled before its dead letter": sum(
                    1 for at in handler.handled_at.values() if at < handler.poison_attempts[RETRY.attempts - 1]
                ),
                "healthy handled twice": sum(1 for event_id in healthy if calls[event_id] > 1),
                "poison attempts before the dead letter": attempts_before_fix,
                "s until every healthy event was handled": round(healthy_done - published, 2),
                "s until the dead letter": round(dead_lettered - published, 2),
                "poison handled after replay": calls[poison],
            }
        ],
        seconds=time.monotonic() - started,
    )


# ---------------------------------------------------------------------------------------------
# The embedded bus (SQLite): tests/bus/conftest.py's notify database.


@pytest.mark.duration(seconds=10)
def test_a_poison_event_on_the_embedded_bus_is_parked_without_blocking_and_replayed_once(settings: Settings) -> None:
    db = database_for("notify", settings.database_url("notify"), define_messaging_tables(MetaData()))
    create_effects(db, serial="INTEGER")

    @contextmanager
    def running(inbox: Inbox) -> Iterator[None]:
        bus = EmbeddedBus(settings, [Participant("notify", db, inbox)])
        bus.start()
        try:
            yield
        finally:
            bus.stop()

    def redeliver(inbox: Inbox, envelope: dict[str, Any]) -> None:
        # What the bus does when it delivers a message again (the outbox cannot hold one event
        # twice, so the envelope is handed to the inbox as the bus thread would).
        assert inbox.deliver(envelope) is Outcome.DUPLICATE

    poison_scenario("embedded", db, running, redeliver)


# ---------------------------------------------------------------------------------------------
# RabbitMQ, with notify's database on PostgreSQL.


@pytest.fixture
def rabbit_settings(
    postgres_url_template: str,  # noqa: F811 - the fixture imported above
    rabbitmq_url: str,  # noqa: F811
    bus_namespace: str,  # noqa: F811
    tmp_path: Path,
) -> Iterator[Settings]:
    upgrade("notify", postgres_url_template.format(name="notify"))
    settings = distributed_settings(postgres_url_template, rabbitmq_url, bus_namespace, tmp_path / "var")
    yield settings
    with connect(settings) as connection:
        channel = connection.channel()
        for subscription in TOPOLOGY.subscriptions:
            channel.queue_delete(subscription.queue(settings.bus_namespace))
            channel.queue_delete(subscription.retry_queue(settings.bus_namespace))


@pytest.fixture
def rabbit_db(rabbit_settings: Settings) -> Iterator[Database]:
    db = database_for("notify", rabbit_settings.database_url("notify"), define_messaging_tables(MetaData()))
    create_effects(db, serial="SERIAL")
    yield db
    with db.unit_of_work() as uow:
        uow.session.execute(text("DROP TABLE poison_effects"))
        uow.session.execute(text("TRUNCATE outbox, inbox, dead_letters"))
        uow.commit()


@pytest.mark.postgres
@pytest.mark.rabbitmq
@pytest.mark.slow
@pytest.mark.duration(seconds=30)
def test_a_poison_event_on_rabbitmq_is_parked_without_blocking_and_replayed_once(
    rabbit_settings: Settings, rabbit_db: Database
) -> None:
    with connect(rabbit_settings) as connection:
        declare(connection, rabbit_settings, TOPOLOGY)

    @contextmanager
    def running(inbox: Inbox) -> Iterator[None]:
        worker = ServiceWorker(rabbit_settings, Participant("notify", rabbit_db, inbox), topology=TOPOLOGY)
        thread = threading.Thread(target=worker.run, name="notify-worker", daemon=True)
        thread.start()
        try:
            wait_for(lambda: worker.broker == "ok", "the consumer")
            yield
        finally:
            worker.stop()
            thread.join(WAIT_SECONDS)
        assert not thread.is_alive(), "the worker did not stop"

    def redeliver(_inbox: Inbox, envelope: dict[str, Any]) -> None:
        publisher = KombuPublisher(rabbit_settings)
        try:
            publisher.publish(envelope)
        finally:
            publisher.close()

    poison_scenario("rabbitmq", rabbit_db, running, redeliver)
