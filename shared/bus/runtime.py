"""Where relays and consumers run: the embedded bus thread, or a service's worker process.

**Embedded** (:class:`EmbeddedBus`): one thread owns the in-memory kombu connection. Each step
it publishes every database's outbox, then drains every queue through the services' inboxes.
Because publishing and consuming happen on this one thread, an empty set of queues after a drain
proves every published message was handled (or dead-lettered), and only then are the published
rows *settled*. A process killed with -9 loses its in-memory queues but not the outbox: at start
:meth:`Relay.recover` makes unsettled rows pending again and the inboxes drop what was handled.

**Distributed** (:class:`ServiceWorker`): a relay thread publishing with confirms, and a kombu
``ConsumerMixin`` consuming the service's durable queue, acking after the inbox committed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from kombu.message import Message
from kombu.messaging import Consumer
from kombu.mixins import ConsumerMixin

from shared.bus import housekeeping
from shared.bus.inbox import Inbox
from shared.bus.outbox import Relay
from shared.bus.transport import RECONNECT_RETRIES, KombuPublisher, connect, declare, service_queue
from shared.db import Database
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Participant:
    """A database on the bus: it publishes from its outbox and, with an inbox, consumes."""

    name: str
    database: Database
    inbox: Inbox | None = None
    jobs: Sequence[ScheduledJob] = field(default_factory=tuple)

    def all_jobs(self) -> tuple[ScheduledJob, ...]:
        """The participant's own jobs and the housekeeping of its messaging tables."""
        return (
            *self.jobs,
            ScheduledJob("housekeeping", housekeeping.EVERY_SECONDS, partial(housekeeping.sweep, self.database)),
        )


@dataclass(frozen=True)
class ScheduledJob:
    """A periodic job of a worker (e.g. releasing no-shows); it runs its own unit of work."""

    name: str
    every_seconds: float
    run: Callable[[], Any]


class EmbeddedBus:
    """The in-process bus of ``parkhub serve``; see the module docstring."""

    def __init__(self, settings: Settings, participants: Sequence[Participant]) -> None:
        self.settings = settings
        self.participants = list(participants)
        self.publisher = KombuPublisher(settings)
        self.relays = [Relay(p.database, self.publisher, durable=False) for p in self.participants]
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Any = None
        self._consumers: list[Consumer] = []
        self._next_job: dict[str, float] = {}
        for participant in self.participants:
            participant.database.on_commit(self.wake)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    def start(self) -> None:
        self._connection = connect(self.settings)
        channel = self._connection.channel()
        inboxes = {p.name: p.inbox for p in self.participants if p.inbox is not None}
        declare(self._connection, self.settings, {name: inbox.event_types for name, inbox in inboxes.items()})
        for name, inbox in inboxes.items():
            consumer = Consumer(
                channel,
                queues=[service_queue(self.settings, name, inbox.event_types)],
                callbacks=[self._on_message(inbox)],
                accept=["json"],
            )
            consumer.consume()
            self._consumers.append(consumer)
        for relay in self.relays:
            relay.recover()
        self._thread = threading.Thread(target=self._run, name="parkhub-bus", daemon=True)
        self._thread.start()
        self.wake()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for consumer in self._consumers:
            consumer.cancel()
        if self._connection is not None:
            self._connection.release()
        self.publisher.close()

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """Block until everything committed so far has been published and handled."""
        return self._idle.wait(timeout)

    def _on_message(self, inbox: Inbox) -> Callable[[Any, Message], None]:
        def on_message(body: Any, message: Message) -> None:
            try:
                inbox.deliver(body)
            except Exception:
                log.exception("%s: could not record the outcome; the message goes back", inbox.service)
                message.requeue()
                raise
            message.ack()

        return on_message

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.settings.relay_interval_seconds)
            self._wake.clear()
            try:
                self.step()
            except Exception:  # noqa: BLE001 - the bus thread must outlive a bad step
                log.exception("embedded bus step failed; retrying")
                self._stop.wait(0.5)

    def step(self) -> None:
        """Publish, drain, settle; run due jobs. One pass of the bus thread."""
        published = sum(relay.run_once() for relay in self.relays)
        drained = self._drain()
        if published or drained:
            for relay in self.relays:
                relay.settle()
            self.wake()  # what the handlers published goes out on the next pass
        else:
            self._idle.set()
        self._run_due_jobs()

    def _drain(self) -> int:
        handled = 0
        while True:
            try:
                self._connection.drain_events(timeout=0.001)
            except TimeoutError:
                return handled
            handled += 1

    def _run_due_jobs(self) -> None:
        now = time.monotonic()
        for participant in self.participants:
            for job in participant.all_jobs():
                key = f"{participant.name}.{job.name}"
                if now >= self._next_job.get(key, 0.0):
                    self._next_job[key] = now + job.every_seconds
                    try:
                        job.run()
                    except Exception:  # noqa: BLE001
                        log.exception("scheduled job %s failed", key)


class _QueueConsumer(ConsumerMixin):
    connect_max_retries = RECONNECT_RETRIES  # type: ignore[assignment]  # kombu's default None retries forever

    def __init__(self, connection: Any, queue: Any, inbox: Inbox) -> None:
        self.connection = connection
        self.queue = queue
        self.inbox = inbox

    def get_consumers(self, consumer_cls: Any, channel: Any) -> list[Consumer]:
        return [consumer_cls(queues=[self.queue], callbacks=[self.on_message], accept=["json"], prefetch_count=16)]

    def on_message(self, body: Any, message: Message) -> None:
        try:
            self.inbox.deliver(body)
        except Exception:
            log.exception("%s: could not record the outcome; requeueing", self.inbox.service)
            time.sleep(1.0)  # the database is down: do not spin on the same message
            message.requeue()
            return
        message.ack()


class ServiceWorker:
    """``parkhub worker SERVICE``: relay thread, scheduled jobs, and the consumer in the caller."""

    def __init__(self, settings: Settings, participant: Participant) -> None:
        self.settings = settings
        self.participant = participant
        self.relay = Relay(participant.database, KombuPublisher(settings), durable=not settings.bus_is_volatile)
        self.heartbeat = settings.var_dir / "run" / f"{participant.name}-worker.heartbeat"
        self._stop = threading.Event()
        self._consumer: _QueueConsumer | None = None

    def run(self) -> None:
        inbox = self.participant.inbox
        log.info(
            "worker of %s starting: relay%s%s",
            self.participant.name,
            f", consuming {', '.join(inbox.event_types)}" if inbox else "",
            f", jobs {', '.join(job.name for job in self.participant.jobs)}" if self.participant.jobs else "",
        )
        self.heartbeat.parent.mkdir(parents=True, exist_ok=True)
        threads = [threading.Thread(target=self._relay_loop, name="relay", daemon=True)]
        threads += [
            threading.Thread(target=self._job_loop, args=(job,), name=job.name, daemon=True)
            for job in self.participant.all_jobs()
        ]
        for thread in threads:
            thread.start()
        if inbox is None:
            self._stop.wait()
            return
        with connect(self.settings) as connection:
            declare(connection, self.settings, {self.participant.name: inbox.event_types})
            self._consumer = _QueueConsumer(
                connection, service_queue(self.settings, self.participant.name, inbox.event_types), inbox
            )
            self._consumer.run()

    def stop(self) -> None:
        self._stop.set()
        if self._consumer is not None:
            self._consumer.should_stop = True

    def _relay_loop(self) -> None:
        while not self._stop.is_set():
            try:
                published = self.relay.run_once()
            except Exception:  # noqa: BLE001 - the database may be restarting
                log.exception("relay pass failed")
                published = 0
            # The container's health check reads this file's age (deploy/healthcheck.py).
            self.heartbeat.touch()
            if not published:
                self._stop.wait(self.settings.relay_interval_seconds)

    def _job_loop(self, job: ScheduledJob) -> None:
        while not self._stop.wait(job.every_seconds):
            try:
                job.run()
            except Exception:  # noqa: BLE001
                log.exception("scheduled job %s failed", job.name)
