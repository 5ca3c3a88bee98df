"""Idempotent consumption: handle an event and record it in the inbox in one transaction.

:meth:`Inbox.deliver` is the whole contract of a consumer, the same on every transport:

- a message that is not a valid envelope, or whose data breaks its contract, is dead-lettered
  at once (retrying cannot fix it);
- an event already in the inbox is a duplicate: nothing happens;
- otherwise the handler runs in a unit of work that also records the event id; both commit
  together. The inbox is per service and a service has one handler per event type (see
  :mod:`shared.bus.topology`), so the event id alone names the (handler, event) pair;
- a failing handler is tried once per delivery: ``deliver`` answers :attr:`Outcome.RETRY`, and
  the caller redelivers the message after :meth:`RetryPolicy.delay` (RabbitMQ: the handler's retry
  queue; embedded: the bus thread's timer heap) with the next ``attempt``. Nobody sleeps on a
  consuming thread. The last attempt's failure is dead-lettered;
- the caller acks the message only after ``deliver`` returned (and, for a retry, after the
  redelivery is safely scheduled). If ``deliver`` raises, the database failed, not the handler:
  it did not answer the inbox's first query (:class:`DatabaseUnavailable`), dropped the connection
  under the handler, or could not take the dead letter. Such a delivery is no attempt: the caller
  redelivers the message later with the same ``attempt``.

Every delivery is counted (``parkhub_events_handled_total{service,type,outcome}``, outcome
handled, duplicate, retried, dead_lettered or ignored; a delivery that raised is no attempt and
is not counted), and an event is handled under a child span of its envelope's ``traceparent``
(:mod:`shared.tracing`): the handler's log lines and the events it publishes carry that trace.
Counting and tracing never fail a delivery: an error in them (a full disk under the multiprocess
directory, a broken exporter) is logged as a warning, once per kind, and the delivery goes on
untraced or uncounted with its outcome unchanged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError

from shared.bus.tables import MessagingTables
from shared.events import ContractViolation, Event, InvalidEnvelope, validate
from shared.events.contracts import versions_handled
from shared.metrics import EVENTS_HANDLED, INVALID_TYPE
from shared.settings import Settings
from shared.tracing import SpanKind, span

if TYPE_CHECKING:
    from shared.db import Database, UnitOfWork

log = logging.getLogger(__name__)

_warned: set[tuple[str, type[BaseException]]] = set()

Handler = Callable[[Event], None]
"""A consumer: ``handler(event, *, uow)``; it must not commit (the inbox does)."""


class DatabaseUnavailable(RuntimeError):
    """The service's database did not answer before the handler ran: no attempt was made."""


def database_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is the database's failure rather than the handler's: it did not answer
    the inbox's first query, or its connection was lost (SQLAlchemy marks it invalidated)."""
    return isinstance(exc, DatabaseUnavailable) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


class Outcome(Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    RETRY = "retry"
    DEAD_LETTERED = "dead_lettered"


_OUTCOME_LABELS = {outcome: outcome.value for outcome in Outcome} | {Outcome.RETRY: "retried"}
"""An outcome as ``parkhub_events_handled_total`` names it (a retry is counted as ``retried``)."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_seconds: float = 0.2
    max_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(attempts=settings.retry_attempts, base_seconds=settings.retry_base_seconds)

    def delay(self, attempt: int) -> float:
        return float(min(self.base_seconds * 2 ** (attempt - 1), self.max_seconds))


class Inbox:
    """The consuming side of one service: its handlers, keyed by event type."""

    def __init__(
        self,
        service: str,
        database: Database,
        handlers: Mapping[str, Callable[..., None]],
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.service = service
        self.database = database
        self.tables: MessagingTables = database.messaging
        self.handlers = dict(handlers)
        self.retry = retry or RetryPolicy()

    @property
    def event_types(self) -> list[str]:
        return sorted(self.handlers)

    def deliver(self, body: Any, *, attempt: int = 1, dead_letter_id: int | None = None) -> Outcome:
        """Handle one received message body (the envelope as JSON-decoded dict or bytes/str).

        ``attempt`` counts deliveries of this message, from 1: a failure before the policy's last
        attempt answers :attr:`Outcome.RETRY`, the last one dead-letters. ``dead_letter_id`` names
        the dead letter being replayed: it is one attempt, and a new failure updates that letter
        instead of parking a second one.
        """
        try:
            if isinstance(body, (bytes, str)):
                body = json.loads(body)
            event = Event.from_dict(body)
        except (InvalidEnvelope, ValueError) as exc:
            outcome = self._dead_letter(body, None, f"invalid envelope: {exc}", 0, dead_letter_id)
            self._count(INVALID_TYPE, outcome)
            return outcome
        with self._span(event, attempt):
            outcome = self._deliver(body, event, attempt, dead_letter_id)
        self._count(event.type, outcome)
        return outcome

    def _count(self, type: str, outcome: Outcome) -> None:
        try:
            EVENTS_HANDLED.labels(self.service, type, _OUTCOME_LABELS[outcome]).inc()
        except Exception as exc:  # noqa: BLE001 - counting never fails a delivery
            _failed("counting a delivery", exc)

    @contextmanager
    def _span(self, event: Event, attempt: int) -> Iterator[None]:
        """The block under the event's span; without one if tracing fails (entering or leaving)."""
        stack = ExitStack()
        try:
            stack.enter_context(
                span(
                    f"{self.service} handles {event.type}",
                    traceparent=event.traceparent,
                    tracestate=event.tracestate,
                    kind=SpanKind.CONSUMER,
                    attributes={
                        "messaging.message.id": event.id,
                        "parkhub.service": self.service,
                        "parkhub.attempt": attempt,
                    },
                )
            )
        except Exception as exc:  # noqa: BLE001 - tracing never fails a delivery
            _failed("tracing a delivery", exc)
        try:
            yield
        except BaseException as exc:
            _leave(stack, exc)
            raise
        _leave(stack, None)

    def _deliver(self, body: Any, event: Event, attempt: int, dead_letter_id: int | None) -> Outcome:
        """:meth:`deliver` of a valid envelope, under its span."""
        handler = self.handlers.get(event.type)
        if handler is None or event.version not in versions_handled(handler):
            # Not ours, or a version this service has not moved to: its publisher sends the
            # version we take beside it (see shared.events.contracts).
            return Outcome.IGNORED
        try:
            _, data = validate(event.type, event.version, event.data, tolerant=True)
        except ContractViolation as exc:
            return self._dead_letter(body, event, f"contract violation: {exc.errors}", 0, dead_letter_id)
        event = Event(**{**event.as_record(), "data": data})

        try:
            return self._handle(handler, event)
        except Exception as exc:  # noqa: BLE001 - every handler failure is retried, then parked
            if database_failed(exc):
                raise  # not the handler's attempt: see the module docstring
            error = f"{type(exc).__name__}: {exc}"
        final = dead_letter_id is not None or attempt >= self.retry.attempts
        log.warning(
            "%s: handling %s %s failed (attempt %d/%d): %s",
            self.service,
            event.type,
            event.id,
            attempt,
            self.retry.attempts,
            error,
        )
        if not final:
            return Outcome.RETRY
        return self._dead_letter(body, event, error, 1 if dead_letter_id is not None else attempt, dead_letter_id)

    def _handle(self, handler: Callable[..., None], event: Event) -> Outcome:
        inbox = self.tables.inbox
        with self.database.unit_of_work(correlationid=event.correlationid or event.id, causationid=event.id) as uow:
            try:
                seen = self.seen(uow, event.id)  # the first statement: the database answers, or is away
            except DBAPIError as exc:
                raise DatabaseUnavailable(f"{self.database.name}: {exc}") from exc
            if seen:
                return Outcome.DUPLICATE
            handler(event, uow=uow)
            uow.session.execute(
                insert(inbox).values(
                    event_id=event.id, type=event.type, source=event.source, handled_at=datetime.now(UTC)
                )
            )
            uow.commit()
        return Outcome.HANDLED

    def seen(self, uow: UnitOfWork, event_id: str) -> bool:
        inbox = self.tables.inbox
        return uow.session.execute(select(inbox.c.event_id).where(inbox.c.event_id == event_id)).first() is not None

    def _dead_letter(
        self, body: Any, event: Event | None, error: str, attempts: int, dead_letter_id: int | None
    ) -> Outcome:
        log.error("%s: dead-lettering %s: %s", self.service, event.id if event else "a message", error)
        table = self.tables.dead_letters
        now = datetime.now(UTC)
        with self.database.unit_of_work() as uow:
            if dead_letter_id is not None:
                uow.session.execute(
                    update(table)
                    .where(table.c.id == dead_letter_id)
                    .values(error=error[:4000], attempts=table.c.attempts + attempts, failed_at=now)
                )
            else:
                raw = body if isinstance(body, dict) else {}
                uow.session.execute(
                    insert(table).values(
                        event_id=event.id if event else str(raw.get("id", "unknown"))[:36],
                        type=event.type if event else str(raw.get("type", "unknown"))[:120],
                        envelope=body if isinstance(body, str) else json.dumps(body, default=str),
                        error=error[:4000],
                        attempts=attempts,
                        failed_at=now,
                    )
                )
            uow.commit()
        return Outcome.DEAD_LETTERED


def _failed(what: str, exc: Exception) -> None:
    """Log a failure of the counting or tracing as a warning, once per kind of error and step."""
    if (what, type(exc)) not in _warned:
        _warned.add((what, type(exc)))
        log.warning("%s failed, the delivery goes on: %s: %s", what, type(exc).__name__, exc)


def _leave(stack: ExitStack, raised: BaseException | None) -> None:
    """Leave the span (it sees the block's exception, if any); a failure of its own is logged."""
    try:
        if raised is None:
            stack.close()
        else:
            stack.__exit__(type(raised), raised, raised.__traceback__)
    except Exception as exc:  # noqa: BLE001 - tracing never fails a delivery
        if exc is not raised:
            _failed("ending a delivery's span", exc)
