"""Who subscribes to what: the declared topology of the bus, the same in both run modes.

The topology is the union of the services' consumer tables (``services/<name>/consumers.py``,
``HANDLERS``: event type -> handler). A service has one handler per event type, so a *handler* is
named by its service and the type it takes, and each handler gets a queue of its own (as nameko
does), bound to that one type:

- ``<ns>.<service>.<type>``: the handler's queue on the topic exchange ``<ns>.events``;
- ``<ns>.<service>.<type>.retry``: on RabbitMQ, where a failed delivery waits out its delay (a
  per-message TTL) before it is dead-lettered back to the handler's queue, and to no other.

``parkhub migrate`` declares it; every worker declares its own handlers' queues at start. Relays
know the subscribed types from the same tables, so an event nobody subscribes to is settled and
counted without touching the broker, and an event the broker returns although a subscriber is
declared is an error (a queue is missing: ``parkhub migrate`` was not run).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Subscription:
    """One handler: the service whose inbox handles ``event_type``."""

    service: str
    event_type: str

    def queue(self, namespace: str) -> str:
        return f"{namespace}.{self.service}.{self.event_type}"

    def retry_queue(self, namespace: str) -> str:
        return f"{self.queue(namespace)}.retry"


@dataclass(frozen=True)
class Topology:
    """Every declared subscription; see the module docstring."""

    subscriptions: tuple[Subscription, ...]

    @classmethod
    def of(cls, consumers: Mapping[str, Iterable[str]]) -> Topology:
        """From each service's handled event types (its consumer table's keys)."""
        return cls(tuple(sorted(Subscription(service, t) for service, types in consumers.items() for t in set(types))))

    @property
    def subscribed_types(self) -> frozenset[str]:
        return frozenset(s.event_type for s in self.subscriptions)

    def of_service(self, service: str) -> tuple[Subscription, ...]:
        return tuple(s for s in self.subscriptions if s.service == service)
