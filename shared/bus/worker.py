"""``parkhub worker SERVICE``: a relay thread publishing with confirms, and a kombu
``ConsumerMixin`` consuming the service's handler queues, acking after the inbox committed; a
retry goes to the handler's retry queue (per-message TTL) and comes back alone. The consumer
reconnects forever with a capped backoff (:data:`shared.bus.transport.RECONNECT`).
"""

from __future__ import annotations

import logging
import os
import select
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import Any

from kombu.connection import Connection
from kombu.message import Message
from kombu.messaging import Consumer
from kombu.mixins import ConsumerMixin

from shared.bus.inbox import Inbox, Outcome
from shared.bus.outbox import NOTIFY_CHANNEL, Relay
from shared.bus.runtime import SAFETY_SECONDS, Participant, ScheduledJob
from shared.bus.topology import Subscription, Topology
from shared.bus.transport import (
    ATTEMPT_HEADER,
    RECONNECT,
    KombuPublisher,
    connect,
    events_exchange,
    handler_queue,
    retry_queue,
)
from shared.clock import utcnow
from shared.db import Database
from shared.settings import Settings

log = logging.getLogger(__name__)

RELAY_DOWN_BACKOFF = (0.1, 1.0)
"""First and longest wait of a relay whose broker or database is down (doubling in between)."""


class RetryNotScheduled(ConnectionError):
    """A retry could not be put on its retry queue: the consumer's connection is given up (so the
    broker requeues the message) and ConsumerMixin reconnects, at most once a second."""


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
            except Exception as exc:
                # Not scheduled, and not acked. Requeueing it here would have it back at once,
                # its attempt uncounted: a hot loop for as long as the cause lasts (a retry queue
                # deleted, a broker refusing). Dropping the connection instead hands it back to
                # the broker and lets ConsumerMixin restart at most once a second, declaring the
                # retry queues again.
                raise RetryNotScheduled(f"{self.inbox.service}: could not schedule the retry: {exc}") from exc
        message.ack()


class _OutboxSignal:
    """Wakes a relay when its outbox may have gained rows: on PostgreSQL the ``NOTIFY`` every
    outbox insert sends at commit (a connection kept listening; it hears this process's commits
    too), on SQLite this process's commits.

    On PostgreSQL this process's other commits do not wake the relay: most add nothing to the
    outbox (a consumer's inbox rows), and each woken pass cost a claiming transaction per event
    handled (docs/PERFORMANCE.md, "Event lag")."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._listener: Any = None
        self._closed = False
        if database.is_sqlite:
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
        self._backing_off = True
        """Whether a row may be backing off (asked of the database only then: see :meth:`_seconds_to_next_due`)."""
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
            self._backing_off = self._backing_off or done.postponed > 0
            self._signal.wait(self._seconds_to_next_due())
        self.publisher.close()
        self._signal.close()

    def _seconds_to_next_due(self) -> float:
        """How long the relay may sleep without a signal: until the earliest row backing off is
        due, at most :data:`SAFETY_SECONDS`. The database is asked only while a row may be backing
        off (one this relay postponed, until the answer is "none"): under a steady flow of events
        that query was a round trip of every pass. A row another process's relay postponed is
        that relay's to retry, or this one's within :data:`SAFETY_SECONDS`."""
        if not self._backing_off:
            return SAFETY_SECONDS
        try:
            due: datetime | None = self.relay.next_due()
        except Exception:  # noqa: BLE001 - the next pass will tell
            return RELAY_DOWN_BACKOFF[1]
        if due is None:
            self._backing_off = False
            return SAFETY_SECONDS
        return min(max((due - utcnow()).total_seconds(), 0.0), SAFETY_SECONDS)

    def _job_loop(self, job: ScheduledJob) -> None:
        while not self._stop.wait(job.every_seconds):
            try:
                job.run()
            except Exception:  # noqa: BLE001
                log.exception("scheduled job %s failed", job.name)
