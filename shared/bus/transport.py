"""kombu on both transports, chosen by URL: ``memory://`` (embedded) or ``amqp://`` (RabbitMQ).

Topology: one durable topic exchange ``<ns>.events``; the routing key is the event type; one
durable queue ``<ns>.<service>`` per consuming service, bound to the types it handles.
On RabbitMQ messages are persistent and published with confirms and ``mandatory``: a message no
queue took comes back through the return handler and is raised as :class:`Unroutable`, so the
outbox keeps it and retries (a confirm alone acks a message that went nowhere).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue, binding
from kombu.messaging import Producer

from shared.bus.outbox import Unroutable
from shared.settings import Settings

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 20
RECONNECT_RETRIES = 10
PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2.0}


def connect(settings: Settings) -> Connection:
    """A new kombu connection for this process (connections are not shared between threads)."""
    if settings.bus_is_volatile:
        # The in-memory transport polls its queues; the default 1 s would delay every event.
        return Connection(settings.bus_url, transport_options={"polling_interval": 0.005})
    return Connection(
        settings.bus_url,
        heartbeat=HEARTBEAT_SECONDS,
        connect_timeout=5,
        transport_options={"confirm_publish": True, "max_retries": RECONNECT_RETRIES},
    )


def events_exchange(settings: Settings) -> Exchange:
    return Exchange(f"{settings.bus_namespace}.events", type="topic", durable=True)


def service_queue(settings: Settings, service: str, event_types: Iterable[str]) -> Queue:
    exchange = events_exchange(settings)
    return Queue(
        f"{settings.bus_namespace}.{service}",
        bindings=[binding(exchange, routing_key=t) for t in sorted(set(event_types))],
        durable=True,
        auto_delete=False,
    )


def declare(connection: Connection, settings: Settings, queues: Mapping[str, Iterable[str]]) -> None:
    """Declare the exchange and each service's queue with its bindings (idempotent)."""
    channel = connection.default_channel
    events_exchange(settings)(channel).declare()
    for service, types in queues.items():
        service_queue(settings, service, types)(channel).declare()


class KombuPublisher:
    """Publishes envelopes to the events exchange; see the module docstring for the guarantees."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.exchange = events_exchange(settings)
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._returned: list[str] = []
        self._lock = threading.Lock()

    def _ensure(self) -> Producer:
        if self._producer is None:
            self._connection = connect(self.settings)
            self._producer = Producer(
                self._connection.default_channel, exchange=self.exchange, on_return=self._on_return
            )
            self.exchange(self._producer.channel).declare()
        return self._producer

    def _on_return(self, exception: Any, exchange: str, routing_key: str, message: Any) -> None:
        self._returned.append(routing_key)

    def publish(self, envelope: Mapping[str, Any]) -> None:
        with self._lock:
            try:
                producer = self._ensure()
                self._returned.clear()
                producer.publish(
                    dict(envelope),
                    routing_key=envelope["type"],
                    serializer="json",
                    delivery_mode=2,
                    mandatory=not self.settings.bus_is_volatile,
                    message_id=envelope["id"],
                    headers={"correlationid": envelope.get("correlationid")},
                    retry=True,
                    retry_policy=PUBLISH_RETRY_POLICY,
                )
            except Exception:
                self.close()
                raise
            if self._returned:
                raise Unroutable(f"no queue is bound for {envelope['type']}")

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception as exc:  # noqa: BLE001 - closing a broken connection must not raise
                log.debug("closing the publisher's connection: %s", exc)
        self._connection = None
        self._producer = None


def broker_health(settings: Settings) -> dict[str, Any]:
    """Whether this process can reach the broker now (a fresh connection, one try, 2 s at most)."""
    transport = settings.bus_url.split("://", 1)[0]
    try:
        with Connection(settings.bus_url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"transport": transport, "status": "down", "error": type(exc).__name__}
    return {"transport": transport, "status": "ok"}
