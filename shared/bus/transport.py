"""kombu on both transports, chosen by URL: ``memory://`` (embedded) or ``amqp://`` (RabbitMQ).

Topology (:mod:`shared.bus.topology`): one durable topic exchange ``<ns>.events``, the routing key
is the event type; one durable queue per handler, ``<ns>.<service>.<type>``, bound to that type;
on RabbitMQ beside it a retry queue ``<ns>.<service>.<type>.retry`` whose messages carry a
per-message TTL (``expiration``) and are dead-lettered, when it runs out, through the default
exchange back to the handler's queue alone. The attempt count rides in the ``x-parkhub-attempt``
header.

On RabbitMQ messages are persistent and published with confirms and ``mandatory``: a message no
queue took comes back through the return handler and is raised as :class:`Unroutable` (a confirm
alone acks a message that went nowhere). A broker that cannot be reached, or that does not confirm
within :data:`PUBLISH_TIMEOUT_SECONDS` (a connection it blocked under a memory or disk alarm), is
:class:`BrokerUnavailable`, raised fast: whoever publishes decides how long to wait before trying
again. Consumers reconnect forever with a capped backoff (:data:`RECONNECT`).

The relay publishes a batch at a time (:meth:`KombuPublisher.publish_batch`): on a channel of its
own in confirm mode it writes every message, then waits once for the broker's confirms (an ack
with ``multiple`` confirms every message up to its tag), instead of one round trip per message.
The broker sends a message's ``basic.return`` before its ack, so each message still gets its own
outcome; a nack, a timeout or a lost connection leaves the messages without an ack unconfirmed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from amqp.exceptions import ChannelError as AmqpChannelError
from amqp.exceptions import MessageNacked
from kombu.connection import Connection
from kombu.entity import Exchange, Queue, binding
from kombu.exceptions import OperationalError
from kombu.messaging import Producer
from kombu.serialization import dumps

from shared.bus.outbox import BrokerUnavailable, Unroutable, publish_batch
from shared.bus.topology import Subscription, Topology
from shared.clock import utcnow
from shared.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_EXCHANGE = Exchange("")
"""AMQP's default exchange: routes to the queue named by the routing key."""

HEARTBEAT_SECONDS = 20
ATTEMPT_HEADER = "x-parkhub-attempt"
RECONNECT: dict[str, Any] = {"max_retries": None, "interval_start": 0.1, "interval_step": 0.2, "interval_max": 1.0}
"""How consumers reconnect: forever, every second at most once the broker has been gone a while,
so they resume within about a second of its return."""
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.1, "interval_step": 0.2, "interval_max": 0.5}
"""One quick second try (a connection the broker closed while idle); past it the relay backs off."""
PUBLISH_TIMEOUT_SECONDS = 3.0
"""Longest wait for one publish's socket write and for its confirm. Without it py-amqp waits
forever, and RabbitMQ never answers a connection it blocked (memory or disk alarm): the relay's
pass would hang holding its row locks. With :data:`PUBLISH_RETRY_POLICY`'s second try a blocked
broker costs a publish about twice this before :class:`BrokerUnavailable`."""
BATCH_TIMEOUT_SECONDS = 10.0
"""Longest one batch of the relay may take, however steadily the broker confirms (the claimed
rows stay locked meanwhile); a batch stalls out sooner, :data:`PUBLISH_TIMEOUT_SECONDS` after the
broker's last sign of life."""
HEALTH_TIMEOUT_SECONDS = 2.0


def connect(settings: Settings) -> Connection:
    """A new kombu connection for this process (connections are not shared between threads).

    Establishing it (``default_channel``, ``ensure_connection`` without arguments) tries twice and
    raises: callers that must wait for the broker pass :data:`RECONNECT` to ``ensure_connection``.
    """
    if settings.bus_is_volatile:
        # The in-memory transport polls its queues; the default 1 s would delay every event.
        return Connection(settings.bus_url, transport_options={"polling_interval": 0.005})
    return Connection(
        settings.bus_url,
        heartbeat=HEARTBEAT_SECONDS,
        connect_timeout=5,
        transport_options={"confirm_publish": True, "max_retries": 1, "interval_start": 0.1, "interval_max": 0.5},
    )


def events_exchange(settings: Settings) -> Exchange:
    return Exchange(f"{settings.bus_namespace}.events", type="topic", durable=True)


def handler_queue(settings: Settings, subscription: Subscription) -> Queue:
    """The handler's own durable queue, bound to its one event type."""
    return Queue(
        subscription.queue(settings.bus_namespace),
        bindings=[binding(events_exchange(settings), routing_key=subscription.event_type)],
        durable=True,
        auto_delete=False,
    )


def retry_queue(settings: Settings, subscription: Subscription) -> Queue:
    """Where a failed delivery waits out its delay; it then goes back to the handler's queue."""
    return Queue(
        subscription.retry_queue(settings.bus_namespace),
        durable=True,
        auto_delete=False,
        queue_arguments={
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": subscription.queue(settings.bus_namespace),
        },
    )


def declare(connection: Connection, settings: Settings, topology: Topology) -> None:
    """Declare the exchange and every subscription's queues with their bindings (idempotent)."""
    channel = connection.default_channel
    events_exchange(settings)(channel).declare()
    for subscription in topology.subscriptions:
        handler_queue(settings, subscription)(channel).declare()
        if not settings.bus_is_volatile:
            retry_queue(settings, subscription)(channel).declare()


def retire_service_queues(connection: Connection, settings: Settings, services: list[str]) -> int:
    """Empty and delete the queues of the old topology (one ``<ns>.<service>`` per service).

    Each message waiting there goes to its handler's queue, by its routing key (the event type),
    ``mandatory`` and confirmed before the original is acked; the inboxes drop what was already
    handled. A message no handler's queue takes (its type has no handler any more) stays where it
    is, and so does its old queue, with a warning: nothing is dropped. Returns how many messages
    were moved.
    """
    moved = 0
    for service in services:
        name = f"{settings.bus_namespace}.{service}"
        channel = connection.channel()
        try:
            channel.queue_declare(name, passive=True)
        except connection.channel_errors:
            continue  # never existed, or already retired (the failed passive declare closed the channel)
        returned: list[str] = []
        channel.events["basic_return"].add(
            lambda exc, exchange, routing_key, message, seen=returned: seen.append(routing_key)
        )
        channel.confirm_select()
        kept = 0
        for _ in range(1_000_000):  # bounded: an old queue has no publisher any more
            message = channel.basic_get(name, no_ack=False)
            if message is None:
                break
            target = f"{settings.bus_namespace}.{service}.{message.delivery_info['routing_key']}"
            returned.clear()
            # The same body and properties; a return arrives before its confirm.
            channel.basic_publish_confirm(
                message, exchange="", routing_key=target, mandatory=True, confirm_timeout=PUBLISH_TIMEOUT_SECONDS
            )
            if returned:
                # Left unacked until the channel closes, which hands it back to the old queue
                # (rejected now, the next get would return it again).
                kept += 1
                log.warning("%s: no handler's queue %s; the message stays in %s", service, target, name)
                continue
            channel.basic_ack(message.delivery_tag)
            moved += 1
        if not kept:
            channel.queue_delete(name)
        channel.close()
    return moved


def delete_namespace(connection: Connection, namespace: str, topology: Topology) -> None:
    """Delete every queue of ``topology`` and the events exchange in ``namespace`` (tests, benches)."""
    channel = connection.channel()
    for subscription in topology.subscriptions:
        channel.queue_delete(subscription.queue(namespace))
        channel.queue_delete(subscription.retry_queue(namespace))
    channel.exchange_delete(f"{namespace}.events")
    channel.close()


class KombuPublisher:
    """Publishes envelopes to the events exchange, and retries to a handler's retry queue; see the
    module docstring for the guarantees. Thread-safe; holds one connection of its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.exchange = events_exchange(settings)
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._returned: list[str] = []
        self._lock = threading.Lock()
        self._batches: _ConfirmChannel | None = None
        self.confirm_waits = 0
        """How many times this publisher waited for the confirms of a batch (the benches count it)."""

    def _ensure(self) -> Producer:
        if self._producer is None:
            self._connection = self._connection or connect(self.settings)  # publish_batch's, if it opened one
            self._producer = Producer(
                self._connection.default_channel, exchange=self.exchange, on_return=self._on_return
            )
            self.exchange(self._producer.channel).declare()
        return self._producer

    def _on_return(self, exception: Any, exchange: str, routing_key: str, message: Any) -> None:
        self._returned.append(routing_key)

    def publish(self, envelope: Mapping[str, Any]) -> None:
        """Publish one event; return once the broker confirmed it.

        Raises :class:`Unroutable` when no queue took it, :class:`BrokerUnavailable` when the
        broker cannot be reached."""
        self._publish(envelope, exchange=self.exchange, routing_key=envelope["type"], headers={})

    def publish_batch(self, envelopes: Sequence[Mapping[str, Any]]) -> list[datetime | Exception]:
        """Publish events in order, pipelined; one outcome per event (:class:`shared.bus.outbox.BatchPublisher`).

        On RabbitMQ every message is written, then the confirms are awaited once: until
        :data:`PUBLISH_TIMEOUT_SECONDS` pass without a write taken or a confirm received, and
        :data:`BATCH_TIMEOUT_SECONDS` at most. When a connection that was already
        open fails (one the broker closed while idle, or lost mid-batch), the messages without
        a confirm get one more try on a fresh connection, as :data:`PUBLISH_RETRY_POLICY` gives a
        single publish; those still without a confirm are :class:`BrokerUnavailable`.
        On the in-memory bus, one publish after the other."""
        if self.settings.bus_is_volatile:
            return publish_batch(_OneByOne(self), envelopes)
        if not envelopes:
            return []
        outcomes: list[datetime | Exception] = [_UNKNOWN] * len(envelopes)
        with self._lock:
            for attempt in range(2):
                batch = [(n, envelopes[n]) for n, outcome in enumerate(outcomes) if outcome is _UNKNOWN]
                if attempt:
                    time.sleep(PUBLISH_RETRY_POLICY["interval_start"])
                reused = self._batches is not None
                try:
                    batches = self._open()
                    self.confirm_waits += 1
                    batches.publish(self.exchange.name, batch, outcomes, PUBLISH_TIMEOUT_SECONDS)
                    break
                except Exception as exc:  # noqa: BLE001 - the outcome of every message still unconfirmed
                    unavailable = self._connection is None or broker_unreachable(exc, self._connection)
                    self.close(graceful=False)
                    if unavailable and reused and not attempt:
                        # A connection open since an earlier batch may have been closed while idle:
                        # the acks that arrived stand, the rest go again on a new connection. A
                        # broker that refused a new connection is not asked twice in one pass.
                        continue
                    # A refusal of the channel (say, a missing exchange) would refuse a second try too.
                    failure = BrokerUnavailable(f"{type(exc).__name__}: {exc}") if unavailable else exc
                    outcomes = [failure if outcome is _UNKNOWN else outcome for outcome in outcomes]
                    break
        return outcomes

    def open(self) -> None:
        """Connect now and open the batches' confirm channel, as a relay that has published before
        has them (raises when the broker cannot be reached). Publishing opens them anyway."""
        with self._lock:
            self._open()

    def _open(self) -> _ConfirmChannel:
        if self._batches is None:
            self._connection = self._connection or connect(self.settings)
            self._batches = _ConfirmChannel(self._connection)
        return self._batches

    def publish_retry(
        self, subscription: Subscription, body: Mapping[str, Any], *, attempt: int, delay_seconds: float
    ) -> None:
        """Put ``body`` on the handler's retry queue: back in its queue after ``delay_seconds``,
        with ``attempt`` in the :data:`ATTEMPT_HEADER` header. Raises like :meth:`publish`."""
        self._publish(
            body,
            exchange=DEFAULT_EXCHANGE,  # a plain "" would make kombu fall back to the events exchange
            routing_key=subscription.retry_queue(self.settings.bus_namespace),
            headers={ATTEMPT_HEADER: attempt},
            expiration=max(delay_seconds, 0.001),
        )

    def _publish(
        self, body: Mapping[str, Any], *, exchange: Any, routing_key: str, headers: dict[str, Any], **options: Any
    ) -> None:
        with self._lock:
            try:
                producer = self._ensure()
                self._returned.clear()
                producer.publish(
                    dict(body),
                    exchange=exchange,
                    routing_key=routing_key,
                    serializer="json",
                    delivery_mode=2,
                    mandatory=not self.settings.bus_is_volatile,
                    message_id=body.get("id"),
                    headers={"correlationid": body.get("correlationid"), **headers},
                    retry=True,
                    retry_policy=PUBLISH_RETRY_POLICY,
                    timeout=PUBLISH_TIMEOUT_SECONDS,
                    confirm_timeout=PUBLISH_TIMEOUT_SECONDS,
                    **options,
                )
            except Exception as exc:
                unavailable = self._connection is None or broker_unreachable(exc, self._connection)
                self.close(graceful=False)
                if unavailable:
                    raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc
                raise
            if self._returned:
                raise Unroutable(f"no queue is bound for {routing_key}")

    def close(self, *, graceful: bool = True) -> None:
        """Close the connection; after a failure not ``graceful``: the closing handshake waits
        for the broker's answer, which a broker that blocked the connection never sends."""
        if self._connection is not None:
            try:
                if graceful:
                    self._connection.release()
                else:
                    self._connection.collect()
            except Exception as exc:  # noqa: BLE001 - closing a broken connection must not raise
                log.debug("closing the publisher's connection: %s", exc)
        self._connection = None
        self._producer = None
        self._batches = None


class _Unknown(Exception):
    """The outcome of a message of a batch before its confirm (or failure) is known."""


_UNKNOWN = _Unknown()


class _OneByOne:
    """A publisher seen without its ``publish_batch``: :func:`shared.bus.outbox.publish_batch`
    then publishes one message after the other (the in-memory bus has no confirms to pipeline)."""

    def __init__(self, publisher: KombuPublisher) -> None:
        self.publish = publisher.publish


class _ConfirmChannel:
    """A channel in confirm mode that publishes batches: all messages written, then their
    confirms awaited together.

    The broker numbers the messages of a confirm-mode channel 1, 2, 3…; its ``basic.ack`` /
    ``basic.nack`` names one of these delivery tags, and with ``multiple`` every tag up to it.
    A ``mandatory`` message no queue took comes back in a ``basic.return`` (carrying its
    ``message_id``, the event id) *before* its ack, so the ack settles it as :class:`Unroutable`."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        # Connects as every publish does (default_channel: the quick retry of connect()'s
        # transport options), not with kombu's slower default for a bare channel().
        connection.default_channel  # noqa: B018 - for its side effect
        self.channel: Any = connection.channel()
        self.channel.confirm_select()
        self.channel._confirm_selected = True  # py-amqp would otherwise select it again
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)
        self.channel.events["basic_return"].add(self._on_return)
        self.sequence = 0  # the delivery tag of the last message written
        self._waiting: dict[int, tuple[int, str | None, str]] = {}  # tag -> (index, message_id, routing key)
        self._returned: set[str] = set()
        self._outcomes: list[datetime | Exception] = []
        self._alive = 0.0  # when the broker last took a write or sent a confirm (monotonic)

    def publish(
        self,
        exchange: str,
        batch: Sequence[tuple[int, Mapping[str, Any]]],
        outcomes: list[datetime | Exception],
        timeout: float,
    ) -> None:
        """Write ``batch`` (``(index, envelope)`` pairs) and wait for its confirms, setting
        ``outcomes[index]`` as each arrives; raise when the connection fails, or the broker went
        ``timeout`` seconds without taking a write or sending a confirm, or the batch took
        :data:`BATCH_TIMEOUT_SECONDS` (the outcomes set so far stand).

        A busy broker that keeps confirming is given the time a whole batch needs; one that
        stopped (a blocked connection: no confirm ever comes) is given up on ``timeout``
        after the last sign of life, as a single publish is."""
        self._outcomes, self._waiting = outcomes, {}
        self._returned.clear()
        cap = time.monotonic() + BATCH_TIMEOUT_SECONDS
        self._alive = time.monotonic()

        def left() -> float:
            return min(self._alive + timeout, cap) - time.monotonic()

        for index, envelope in batch:
            content_type, content_encoding, body = dumps(dict(envelope), serializer="json")
            message = self.channel.prepare_message(
                body,
                0,
                content_type,
                content_encoding,
                {"correlationid": envelope.get("correlationid")},
                {"delivery_mode": 2, "message_id": envelope.get("id")},
            )
            # The plain write: py-amqp's basic_publish on a confirm-mode connection would wait
            # for this message's confirm (basic_publish_confirm, which calls this one).
            self.channel._basic_publish(
                message,
                exchange=exchange,
                routing_key=envelope["type"],
                mandatory=True,
                timeout=max(left(), 0.001),
            )
            self._alive = time.monotonic()
            self.sequence += 1
            self._waiting[self.sequence] = (index, envelope.get("id"), envelope["type"])
        while self._waiting:
            wait = left()
            if wait <= 0:
                raise TimeoutError(f"{len(self._waiting)} of {len(batch)} messages not confirmed in time")
            self.connection.connection.drain_events(timeout=wait)

    def _settle(self, tag: int, multiple: bool, outcome: datetime | Exception) -> None:
        self._alive = time.monotonic()
        tags = [t for t in self._waiting if t <= tag] if multiple else [tag] if tag in self._waiting else []
        for settled in tags:
            index, message_id, routing_key = self._waiting.pop(settled)
            if isinstance(outcome, datetime) and message_id in self._returned:
                self._outcomes[index] = Unroutable(f"no queue is bound for {routing_key}")
            else:
                self._outcomes[index] = outcome

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, utcnow())

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, MessageNacked("the broker refused the message (basic.nack)"))

    def _on_return(self, exception: Any, exchange: str, routing_key: str, message: Any) -> None:
        self._returned.add(message.properties.get("message_id"))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def broker_unreachable(exc: BaseException, connection: Connection) -> bool:
    """Whether ``exc``, raised while publishing on ``connection``, says the broker cannot be reached
    (refused, reset, silent, timed out) rather than that it refused this one message.

    kombu hands connection failures on as its own ``OperationalError`` (a fresh connection that
    is refused raises nothing else), with the socket's error as the cause; a channel error (say,
    a queue that does not exist) is about the message, whatever wraps it."""
    connection_errors = (OSError, *connection.connection_errors, *connection.recoverable_connection_errors)
    for link in _causes(exc):
        if isinstance(link, (AmqpChannelError, *connection.channel_errors)):
            return False
        if isinstance(link, connection_errors):
            return True
    return isinstance(exc, OperationalError)


def broker_health(settings: Settings) -> dict[str, Any]:
    """Whether this process can reach the broker now: a fresh connection, one try, at most
    :data:`HEALTH_TIMEOUT_SECONDS` (refused: at once; silent: the timeout)."""
    transport = settings.bus_url.split("://", 1)[0]
    try:
        with Connection(settings.bus_url, connect_timeout=HEALTH_TIMEOUT_SECONDS) as connection:
            connection.ensure_connection(max_retries=0, timeout=HEALTH_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"transport": transport, "status": "down", "error": type(exc).__name__}
    return {"transport": transport, "status": "ok"}
