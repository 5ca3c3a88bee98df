"""Where relays and consumers run: the embedded bus thread, or a service's worker process.

Both wake on work, never on a polling timer: a commit that added to an outbox (this process's
commit callbacks; on PostgreSQL also ``LISTEN``/``NOTIFY`` across processes), a message on a
queue, or the moment the earliest delayed thing is due (a redelivery, an outbox row backing off,
a scheduled job). Idle, they sleep.

**Embedded** (:class:`EmbeddedBus`): one thread owns the in-memory kombu connection. Each step
it publishes every database's outbox, drains every handler's queue through the services' inboxes
and redelivers the retries that are due (a timer heap on the thread: a failing handler costs no
sleep, and no other handler waits for it). Because publishing and consuming happen on this one
thread, empty queues after a drain prove that every published message was handled,
dead-lettered or is waiting in the heap, and only then are the published rows *settled* (those
in the heap excepted). A process killed with -9 loses its in-memory queues and heap but not the
outbox: at start :meth:`Relay.recover` makes unsettled rows pending again and the inboxes drop
what was handled.

**Distributed** (:class:`ServiceWorker`): a relay thread publishing with confirms, and a kombu
``ConsumerMixin`` consuming the service's handler queues, acking after the inbox committed; a
retry goes to the handler's retry queue (per-message TTL) and comes back alone. The consumer
reconnects forever with a capped backoff (:data:`shared.bus.transport.RECONNECT`).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import select
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from kombu.connection import Connection
from kombu.message import Message
from kombu.messaging import Consumer
from kombu.mixins import ConsumerMixin

from shared.bus import housekeeping
from shared.bus.inbox import Inbox, Outcome
from shared.bus.outbox import NOTIFY_CHANNEL, Relay
from shared.bus.topology import Subscription, Topology
from shared.bus.transport import (
    ATTEMPT_HEADER,
    RECONNECT,
    KombuPublisher,
    connect,
    declare,
    events_exchange,
    handler_queue,
    retry_queue,
)
from shared.clock import utcnow
from shared.db import Database
from shared.settings import Settings

log = logging.getLogger(__name__)

SAFETY_SECONDS = 10.0
"""Longest a relay sleeps without a signal: a notification lost with a dropped connection costs
at most this, and the worker's heartbeat file (checked at 30 s) stays fresh."""
RELAY_DOWN_BACKOFF = (0.1, 1.0)
"""First and longest wait of a relay whose broker or database is down (doubling in between)."""


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


def consumer_topology(participants: Sequence[Participant]) -> Topology:
    """The topology the participants' inboxes declare."""
    return Topology.of({p.name: p.inbox.event_types for p in participants if p.inbox is not None})


@dataclass(order=True)
class _Redelivery:
    due: float
    seq: int
    inbox: Inbox = field(compare=False)
    body: Any = field(compare=False)
    attempt: int = field(compare=False)
    event_id: str = field(compare=False)


class EmbeddedBus:
    """The in-process bus of ``parkhub serve``; see the module docstring."""

    def __init__(
        self, settings: Settings, participants: Sequence[Participant], *, topology: Topology | None = None
    ) -> None:
        self.settings = settings
        self.participants = list(participants)
        self.topology = topology or consumer_topology(self.participants)
        self.publisher = KombuPublisher(settings)
        subscribed = self.topology.subscribed_types
        self.relays = [Relay(p.database, self.publisher, durable=False, subscribed=subscribed) for p in participants]
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Any = None
        self._consumers: list[Consumer] = []
        self._next_job: dict[str, float] = {}
        self._redeliveries: list[_Redelivery] = []
        self._seq = itertools.count()
        self._relay_due: float | None = None
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
        declare(self._connection, self.settings, self.topology)
        for subscription in self.topology.subscriptions:
            inbox = inboxes.get(subscription.service)
            if inbox is None:
                continue
            consumer = Consumer(
                channel,
                queues=[handler_queue(self.settings, subscription)],
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
        """Block until everything committed so far has been published and handled (retries too)."""
        return self._idle.wait(timeout)

    def _on_message(self, inbox: Inbox) -> Callable[[Any, Message], None]:
        def on_message(body: Any, message: Message) -> None:
            self._deliver(inbox, body, 1)
            message.ack()

        return on_message

    def _deliver(self, inbox: Inbox, body: Any, attempt: int) -> None:
        try:
            outcome = inbox.deliver(body, attempt=attempt)
        except Exception:  # noqa: BLE001 - not even the outcome could be recorded: try again later
            log.exception("%s: could not record the outcome; redelivering later", inbox.service)
            outcome = Outcome.RETRY
            attempt -= 1  # the database failed, not the handler: this attempt does not count
        if outcome is Outcome.RETRY:
            delay = inbox.retry.delay(max(attempt, 1))
            event_id = str(body.get("id", "")) if isinstance(body, Mapping) else ""
            heapq.heappush(
                self._redeliveries,
                _Redelivery(time.monotonic() + delay, next(self._seq), inbox, body, attempt + 1, event_id),
            )

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._seconds_to_next_due())
            self._wake.clear()
            try:
                self.step()
            except Exception:  # noqa: BLE001 - the bus thread must outlive a bad step
                log.exception("embedded bus step failed; retrying")
                self._stop.wait(0.5)

    def _seconds_to_next_due(self) -> float:
        now = time.monotonic()
        due = [SAFETY_SECONDS * 360]
        if self._redeliveries:
            due.append(self._redeliveries[0].due - now)
        if self._relay_due is not None:
            due.append(self._relay_due - now)
        for participant in self.participants:
            for job in participant.all_jobs():
                due.append(self._next_job.get(f"{participant.name}.{job.name}", 0.0) - now)
        return max(min(due), 0.0)

    def step(self) -> None:
        """Publish, drain, redeliver what is due, settle; run due jobs. One pass of the bus thread.

        Its own bookkeeping commits quietly; a handler's commit wakes the next pass, which
        publishes what the handler published."""
        published = 0
        for relay in self.relays:
            while True:
                done = relay.run_pass()
                published += done.published + done.unsubscribed
                if done.claimed < relay.batch_size or done.broker_down:
                    break
        handled = self._drain() + self._redeliver_due()
        if published or handled:
            waiting = frozenset(r.event_id for r in self._redeliveries)
            for relay in self.relays:
                relay.settle(except_events=waiting)
            self.wake()  # one more pass: a handler may have published (no new work: it idles)
        elif not self._redeliveries:
            self._idle.set()
        self._relay_due = self._earliest_relay_due()
        self._run_due_jobs()

    def _drain(self) -> int:
        handled = 0
        while True:
            try:
                self._connection.drain_events(timeout=0.001)
            except TimeoutError:
                return handled
            handled += 1

    def _redeliver_due(self) -> int:
        redelivered = 0
        now = time.monotonic()
        while self._redeliveries and self._redeliveries[0].due <= now:
            due = heapq.heappop(self._redeliveries)
            self._deliver(due.inbox, due.body, due.attempt)
            redelivered += 1
        return redelivered

    def _earliest_relay_due(self) -> float | None:
        dues = [due for relay in self.relays if (due := relay.next_due()) is not None]
        if not dues:
            return None
        return time.monotonic() + max((min(dues) - utcnow()).total_seconds(), 0.0)

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


class _HandlerConsumer(ConsumerMixin):
    """Consumes one service's handler queues; reconnects forever (see :data:`RECONNECT`)."""

    def __init__(
        self,
        connection: Connection,
        settings: Settings,
        *,
        subscriptions: Sequence[Subscription],
        inbox: Inbox,
        retries: KombuPublisher,
        on_state: Callable[[str], None],
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.subscriptions = subscriptions
        self.inbox = inbox
        self.retries = retries
        self.on_state = on_state

    @contextmanager
    def establish_connection(self) -> Iterator[Connection]:
        with self.create_connection() as connection:
            connection.ensure_connection(self.on_connection_error, **RECONNECT)
            yield connection

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        self.on_state("down")
        log.warning("%s: broker unreachable (%s); trying again in %.1f s", self.inbox.service, exc, interval)

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kwargs: Any) -> None:
        self.on_state("ok")
        log.info("%s: consuming %d handler queue(s)", self.inbox.service, len(self.subscriptions))

    def get_consumers(self, consumer_cls: Any, channel: Any) -> list[Consumer]:
        # Declared on every (re)connection: a worker started before `parkhub migrate` still works.
        events_exchange(self.settings)(channel).declare()
        for subscription in self.subscriptions:
            retry_queue(self.settings, subscription)(channel).declare()
        return [
            consumer_cls(
                queues=[handler_queue(self.settings, subscription)],
                callbacks=[partial(self.on_message, subscription)],
                accept=["json"],
                prefetch_count=16,
            )
            for subscription in self.subscriptions
        ]

    def on_message(self, subscription: Subscription, body: Any, message: Message) -> None:
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
        try:
            outcome = self.inbox.deliver(body, attempt=attempt)
        except Exception:  # noqa: BLE001 - the database is down: the message waits, nobody spins
            log.exception("%s: could not record the outcome; the message waits and comes back", self.inbox.service)
            outcome, attempt = Outcome.RETRY, attempt - 1
        if outcome is Outcome.RETRY:
            try:
                self.retries.publish_retry(
                    subscription, body, attempt=attempt + 1, delay_seconds=self.inbox.retry.delay(max(attempt, 1))
                )
            except Exception:  # noqa: BLE001 - not scheduled: the broker redelivers it instead
                log.exception("%s: could not schedule the retry; requeueing", self.inbox.service)
                message.requeue()
                return
        message.ack()


class _OutboxSignal:
    """Wakes a relay when its outbox may have gained rows: this process's commits, and on
    PostgreSQL the ``NOTIFY`` every outbox insert sends at commit (a connection kept listening)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._listener: Any = None
        self._closed = False
        database.on_commit(self.set)  # the database outlives this worker: see `_closed`

    def set(self) -> None:
        if self._closed:
            return  # the descriptors may already belong to someone else
        try:
            os.write(self._write, b"!")
        except BlockingIOError:
            pass  # the pipe is full of wake-ups already

    def listen(self) -> None:
        """(Re)open the listening connection; raises while the database is down."""
        if self.database.is_sqlite or self._listener is not None:
            return
        import psycopg

        url = self.database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._listener = psycopg.connect(url, autocommit=True, connect_timeout=5)
        self._listener.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def wait(self, timeout: float) -> None:
        """Sleep until a signal or ``timeout``; a broken listener is dropped (reopened by :meth:`listen`)."""
        fds = [self._read] + ([self._listener.fileno()] if self._listener is not None else [])
        try:
            ready, _, _ = select.select(fds, [], [], max(timeout, 0.0))
        except (OSError, ValueError):
            ready = []
            self.close_listener()
        if self._read in ready:
            while True:
                try:
                    if not os.read(self._read, 4096):
                        break
                except BlockingIOError:
                    break
        if self._listener is not None and self._listener.fileno() in ready:
            try:
                for _ in self._listener.notifies(timeout=0):
                    pass
            except Exception as exc:  # noqa: BLE001 - the database went away; reopened later
                log.warning("outbox listener of %s lost: %s", self.database.name, exc)
                self.close_listener()

    def close_listener(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            except Exception as exc:  # noqa: BLE001 - closing a broken connection must not raise
                log.debug("closing the outbox listener: %s", exc)
        self._listener = None

    def close(self) -> None:
        self.close_listener()
        self._closed = True
        os.close(self._read)
        os.close(self._write)


class ServiceWorker:
    """``parkhub worker SERVICE``: relay thread, scheduled jobs, and the consumer in the caller."""

    def __init__(self, settings: Settings, participant: Participant, *, topology: Topology) -> None:
        self.settings = settings
        self.participant = participant
        self.topology = topology
        self.publisher = KombuPublisher(settings)
        self.relay = Relay(
            participant.database,
            self.publisher,
            durable=not settings.bus_is_volatile,
            subscribed=topology.subscribed_types,
        )
        # Retries publish on a connection of their own: waiting for their confirm on the
        # consumer's connection would read (and dispatch) the consumer's deliveries meanwhile.
        self.retries = KombuPublisher(settings)
        self.heartbeat = settings.var_dir / "run" / f"{participant.name}-worker.heartbeat"
        self.broker = "starting"
        """The consumer's view of the broker: ``ok`` or ``down`` (``starting`` until it knows)."""
        self._stop = threading.Event()
        self._signal = _OutboxSignal(participant.database)
        self._consumer: _HandlerConsumer | None = None

    def run(self) -> None:
        inbox = self.participant.inbox
        subscriptions = self.topology.of_service(self.participant.name) if inbox is not None else ()
        log.info(
            "worker of %s starting: relay%s%s",
            self.participant.name,
            f", consuming {', '.join(s.event_type for s in subscriptions)}" if subscriptions else "",
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
        try:
            if inbox is None or not subscriptions:
                self._stop.wait()
                return
            self._consumer = _HandlerConsumer(
                connect(self.settings),
                self.settings,
                subscriptions=subscriptions,
                inbox=inbox,
                retries=self.retries,
                on_state=self._set_broker,
            )
            self._consumer.run()
        finally:
            self._stop.set()
            self._signal.set()
            threads[0].join(5)
            self.retries.close()

    def _set_broker(self, state: str) -> None:
        if state != self.broker:
            log.info("worker of %s: broker %s", self.participant.name, state)
        self.broker = state

    def stop(self) -> None:
        self._stop.set()
        self._signal.set()
        if self._consumer is not None:
            self._consumer.should_stop = True

    def _relay_loop(self) -> None:
        down_wait = 0.0
        while not self._stop.is_set():
            # The container's health check reads this file's age (deploy/healthcheck.py).
            self.heartbeat.touch()
            try:
                self._signal.listen()  # before the pass: nothing committed after it goes unnoticed
                done = self.relay.run_pass()
                trouble = done.broker_down
            except Exception as exc:  # noqa: BLE001 - the database may be restarting
                log.warning("relay pass of %s failed: %s", self.participant.name, exc)
                self._signal.close_listener()
                trouble = True
            if trouble:
                low, high = RELAY_DOWN_BACKOFF
                down_wait = min(max(down_wait * 2, low), high)
                self._stop.wait(down_wait)
                continue
            down_wait = 0.0
            if done.claimed >= self.relay.batch_size:
                continue  # more rows wait behind this batch
            self._signal.wait(self._seconds_to_next_due())
        self.publisher.close()
        self._signal.close()

    def _seconds_to_next_due(self) -> float:
        try:
            due: datetime | None = self.relay.next_due()
        except Exception:  # noqa: BLE001 - the next pass will tell
            return RELAY_DOWN_BACKOFF[1]
        if due is None:
            return SAFETY_SECONDS
        return min(max((due - utcnow()).total_seconds(), 0.0), SAFETY_SECONDS)

    def _job_loop(self, job: ScheduledJob) -> None:
        while not self._stop.wait(job.every_seconds):
            try:
                job.run()
            except Exception:  # noqa: BLE001
                log.exception("scheduled job %s failed", job.name)
