"""The in-process bus of ``parkhub serve``: one thread owns the in-memory kombu connection. Each step
it publishes every database's outbox, drains every handler's queue through the services' inboxes
and redelivers the retries that are due (a timer heap on the thread: a failing handler costs no
sleep, and no other handler waits for it). Because publishing and consuming happen on this one
thread, empty queues after a drain prove that every published message was handled,
dead-lettered or is waiting in the heap, and only then are the published rows *settled* (those
in the heap excepted). A process killed with -9 loses its in-memory queues and heap but not the
outbox: at start :meth:`Relay.recover` makes unsettled rows pending again and the inboxes drop
what was handled.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from kombu.message import Message
from kombu.messaging import Consumer

from shared.bus.inbox import Inbox, Outcome
from shared.bus.outbox import Relay
from shared.bus.runtime import SAFETY_SECONDS, Participant, consumer_topology
from shared.bus.transport import (
    KombuPublisher,
    connect,
    declare,
    handler_queue,
)
from shared.clock import utcnow
from shared.settings import Settings

log = logging.getLogger(__name__)


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

    def __init__(self, settings: Settings, participants: Sequence[Participant]) -> None:
        self.settings = settings
        self.participants = list(participants)
        self.topology = consumer_topology(self.participants)
        self.publisher = KombuPublisher(settings)
        subscribed = self.topology.subscribed_types
        self.relays = [Relay(p.database, self.publisher, durable=False, subscribed=subscribed) for p in participants]
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle_lock = threading.Lock()
        """Makes "no wake-up is pending, so idle" one step against :meth:`wake`."""
        self._thread: threading.Thread | None = None
        self._connection: Any = None
        self._consumers: list[Consumer] = []
        self._next_job: dict[str, float] = {}
        self._redeliveries: list[_Redelivery] = []
        self._seq = itertools.count()
        self._relay_due: float | None = None
        self._dirty: set[int] = set(range(len(self.relays)))
        """Relays (by index) whose database committed since their last pass: only they pass."""
        self._unsettled: set[int] = set()
        """Relays that published rows not settled yet."""
        self._backing_off = True
        """Whether a row may be backing off: only then are the databases asked when one is due."""
        for index, participant in enumerate(self.participants):
            participant.database.on_commit(partial(self._committed, index))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """Something may have changed anywhere: the next step passes every relay."""
        with self._idle_lock:
            self._dirty.update(range(len(self.relays)))
            self._idle.clear()
            self._wake.set()

    def _committed(self, index: int) -> None:
        """A commit on relay ``index``'s database (it may have added to the outbox)."""
        with self._idle_lock:
            self._dirty.add(index)
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
                # The failed step may have held the only wake-up for what was committed (it was
                # cleared before the step, its relays taken): every relay passes again, now.
                self.wake()

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

        Only the relays whose database committed since their last pass pass (all of them when a
        row backing off is due): a step costs the databases that have work, not every database
        (docs/PERFORMANCE.md, "Event lag"). Its own bookkeeping commits quietly; a handler's
        commit marks its database for the next pass, which publishes what the handler published."""
        with self._idle_lock:
            dirty, self._dirty = self._dirty, set()
        if self._relay_due is not None and time.monotonic() >= self._relay_due:
            dirty = set(range(len(self.relays)))
        published = 0
        for index in sorted(dirty):
            relay = self.relays[index]
            while True:
                done = relay.run_pass()
                published += done.published + done.unsubscribed
                if done.published:
                    self._unsettled.add(index)
                if done.postponed:
                    self._backing_off = True
                if done.claimed < relay.batch_size or done.broker_down:
                    break
        handled = self._drain() + self._redeliver_due()
        if published or handled:
            waiting = frozenset(r.event_id for r in self._redeliveries)
            for index in sorted(self._unsettled):
                self.relays[index].settle(except_events=waiting)
            if not waiting:
                self._unsettled.clear()
            # One more step, to become idle: a handler that published marked its own database.
            self._wake.set()
        elif not self._redeliveries:
            # A commit that landed during this step (after its relay pass) set the wake-up: the
            # next step publishes it, and only a step that finds nothing to do is idle.
            with self._idle_lock:
                if not self._wake.is_set():
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
        """When the earliest row backing off is due (monotonic); the databases are asked only
        while one may be (a pass postponed one, until they answer "none")."""
        if not self._backing_off:
            return None
        dues = [due for relay in self.relays if (due := relay.next_due()) is not None]
        if not dues:
            self._backing_off = False
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
