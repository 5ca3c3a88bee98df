"""The transactional outbox and the relay that publishes from it.

``enqueue`` writes an event in the caller's transaction; nothing touches the broker until that
transaction commits. The relay then publishes pending rows in id order and marks them published.
A relay killed between publishing and marking publishes the row again on its next run; consumers'
inboxes drop the duplicate.

On a durable broker (RabbitMQ with publisher confirms and ``mandatory``) a confirmed row is also
*settled*. A pass hands its rows to the publisher as one batch (:meth:`BatchPublisher.publish_batch`):
on RabbitMQ they are written back to back and their confirms awaited once, and each row's own
outcome decides what happens to it; a row is settled only once the broker confirmed it.
A row whose type no handler subscribes to (the declared topology, :mod:`shared.bus.topology`) is
settled without being published: ``published_at`` stays empty, and :func:`backlog` counts it.
On the volatile embedded bus a row is settled only once the bus has seen every queue drained
(:meth:`Relay.settle`); at start, published-but-unsettled rows are published again
(:meth:`Relay.recover`), because a killed process lost whatever its in-memory queues held.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import bindparam, func, insert, or_, select, text, update

from shared.bus.tables import MessagingTables
from shared.clock import PARK_TZ, as_utc, utcnow
from shared.events import Event, validate
from shared.tracing import current_trace

if TYPE_CHECKING:
    from shared.db import Database, UnitOfWork

log = logging.getLogger(__name__)


NOTIFY_CHANNEL = "parkhub_outbox"
"""On PostgreSQL every transaction that adds to the outbox notifies this channel at its commit:
the relay of another process listens instead of polling (see :mod:`shared.bus.worker`)."""


class Unroutable(RuntimeError):
    """The broker returned a ``mandatory`` message: no queue is bound for its type."""


class BrokerUnavailable(RuntimeError):
    """The broker cannot be reached; no message is to blame."""


class Publisher(Protocol):
    def publish(self, envelope: Mapping[str, Any]) -> None:
        """Publish one envelope and return once the broker has it; raise when it does not."""


class BatchPublisher(Publisher, Protocol):
    def publish_batch(self, envelopes: Sequence[Mapping[str, Any]]) -> list[datetime | Exception]:
        """Publish ``envelopes`` in order; return one outcome per envelope, in the same order.

        A time: the broker confirmed it then (UTC). An exception: it was not confirmed — :class:`Unroutable`
        or another refusal of that message alone, or :class:`BrokerUnavailable` for every message
        whose fate is unknown because the broker could not be reached (some of those may have
        arrived; the inboxes drop the copy a later pass sends). Raises nothing itself."""


def publish_batch(publisher: Publisher, envelopes: Sequence[Mapping[str, Any]]) -> list[datetime | Exception]:
    """``publisher.publish_batch`` when it has one, else one :meth:`Publisher.publish` after the
    other, with the same outcomes: after a :class:`BrokerUnavailable` the rest are not tried."""
    if hasattr(publisher, "publish_batch"):
        return list(publisher.publish_batch(envelopes))
    outcomes: list[datetime | Exception] = []
    for envelope in envelopes:
        if outcomes and isinstance(outcomes[-1], BrokerUnavailable):
            outcomes.append(outcomes[-1])
            continue
        try:
            publisher.publish(envelope)
        except Exception as exc:  # noqa: BLE001 - an outcome of this envelope alone
            outcomes.append(exc)
        else:
            outcomes.append(utcnow())
    return outcomes


def enqueue(
    uow: UnitOfWork,
    type: str,
    data: Mapping[str, Any],
    *,
    subject: str | None,
    orgid: str | None,
    version: int | None = None,
) -> str:
    """Validate and add one event to ``uow``'s outbox; see :meth:`shared.db.UnitOfWork.publish`.

    The event carries the current span's ``traceparent`` (the request's, or the handler's that
    publishes it; :mod:`shared.tracing`), so its consumers continue the same trace."""
    version, payload = validate(type, version, dict(data))
    tables: MessagingTables = uow.database.messaging
    traceparent, tracestate = current_trace()
    event = Event(
        type=type,
        source=f"/parkhub/{uow.database.name}",
        data=payload,
        version=version,
        subject=subject,
        orgid=orgid,
        correlationid=uow.context.get("correlationid"),
        causationid=uow.context.get("causationid"),
        traceparent=traceparent,
        tracestate=tracestate,
    )
    uow.session.execute(
        insert(tables.outbox).values(
            event_id=event.id,
            type=type,
            envelope=json.dumps(event.to_dict(), separators=(",", ":")),
            created_at=event.time,
        )
    )
    if not uow.database.is_sqlite:
        # Delivered at commit, and once per transaction however many events it adds.
        uow.session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    return event.id


@dataclass
class RelayPass:
    """What one pass of a relay did."""

    claimed: int = 0
    published: int = 0
    unsubscribed: int = 0
    postponed: int = 0
    broker_down: bool = False


class Relay:
    """Publishes one database's outbox in id order.

    A pass takes the oldest rows that are *due* (a row backing off after a failure is not, so it
    delays nobody), publishes them as one batch in id order (:func:`publish_batch`) and records
    when the broker confirmed each. A row the broker refuses (say, :class:`Unroutable`) is
    postponed with exponential backoff and its neighbours go on; rows whose fate
    :class:`BrokerUnavailable` left unknown stay pending, not postponed (no row is to blame), and
    the pass reports ``broker_down``.

    ``batch_size`` (200) bounds a pass: its rows stay locked while they are published, a broker
    lost mid-batch costs at most that many duplicates (dropped by the inboxes), and the one
    confirm round trip is already well under 1 % of 200 pipelined publishes, so larger batches
    gain nothing measurable (docs/PERFORMANCE.md).
    Rows of a type nobody subscribes to (``subscribed``; ``None`` = unknown, publish everything)
    are settled without touching the broker.

    Safe to run in several processes at once on PostgreSQL: rows are claimed with
    ``FOR UPDATE SKIP LOCKED``, so the relay publishes while its claiming transaction is open — the
    one place the broker is called inside a transaction, and one that changes nothing but the
    outbox's own bookkeeping. Its commits are quiet: they do not wake the bus they serve.
    """

    BATCH_SIZE = 200
    """Rows per pass unless told otherwise; see the class docstring for why 200."""

    def __init__(
        self,
        database: Database,
        publisher: Publisher,
        *,
        durable: bool,
        subscribed: frozenset[str] | None = None,
        batch_size: int = BATCH_SIZE,
        first_backoff: timedelta = timedelta(seconds=0.5),
        max_backoff: timedelta = timedelta(minutes=5),
    ) -> None:
        self.database = database
        self.tables: MessagingTables = database.messaging
        self.publisher = publisher
        self.durable = durable
        self.subscribed = subscribed
        self.batch_size = batch_size
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff

    def run_once(self) -> int:
        """One pass (:meth:`run_pass`); return how many rows were published."""
        return self.run_pass().published

    def run_pass(self) -> RelayPass:
        """Publish the oldest due rows, at most ``batch_size`` of them.

        A pass that claimed a full batch leaves more behind: the caller runs another at once."""
        outbox = self.tables.outbox
        now = utcnow()
        done = RelayPass()
        with self.database.unit_of_work(quiet=True) as uow:
            rows = uow.session.execute(
                select(outbox.c.id, outbox.c.type, outbox.c.envelope, outbox.c.attempts)
                .where(
                    outbox.c.published_at.is_(None),
                    outbox.c.settled_at.is_(None),
                    or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
                )
                .order_by(outbox.c.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            done.claimed = len(rows)
            published: list[dict[str, Any]] = []
            unsubscribed: list[int] = []
            to_publish = []
            for row in rows:
                if self.subscribed is not None and row.type not in self.subscribed:
                    unsubscribed.append(row.id)
                else:
                    to_publish.append(row)
            envelopes = [json.loads(row.envelope) for row in to_publish]
            outcomes = publish_batch(self.publisher, envelopes) if envelopes else []  # no rows: no broker
            for row, outcome in zip(to_publish, outcomes, strict=True):
                if isinstance(outcome, datetime):
                    published.append({"row_id": row.id, "at": outcome})  # the confirm's time
                elif isinstance(outcome, BrokerUnavailable):
                    done.broker_down = True  # unknown fate: stays pending, published again later
                else:
                    self._postpone(uow, row.id, row.attempts, outcome, now)
                    done.postponed += 1
                    log.warning("outbox row %s of %s not published: %s", row.id, self.database.name, outcome)
            if done.broker_down:
                unknown = sum(isinstance(outcome, BrokerUnavailable) for outcome in outcomes)
                reason = next(outcome for outcome in outcomes if isinstance(outcome, BrokerUnavailable))
                log.warning(
                    "outbox of %s: broker unavailable (%s); %d rows stay pending", self.database.name, reason, unknown
                )
            if published:
                values: dict[str, Any] = {"published_at": bindparam("at"), "last_error": None}
                if self.durable:
                    values["settled_at"] = bindparam("at")
                uow.session.execute(
                    update(outbox).where(outbox.c.id == bindparam("row_id")).values(**values), published
                )
            if unsubscribed:
                uow.session.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(unsubscribed))
                    .values(settled_at=now, last_error="no subscriber declared")
                )
            uow.commit()
        done.published, done.unsubscribed = len(published), len(unsubscribed)
        return done

    def backoff(self, attempts: int) -> timedelta:
        """How long a row that failed ``attempts`` times before waits after this failure:
        ``first_backoff`` doubling, capped at ``max_backoff``. Computed in float seconds with a
        capped exponent: a timedelta times 2**48 overflows, and a row refused that often must
        not make every later pass fail."""
        seconds = self.first_backoff.total_seconds() * 2.0 ** min(max(attempts, 0), 64)
        return timedelta(seconds=min(seconds, self.max_backoff.total_seconds()))

    def _postpone(self, uow: UnitOfWork, row_id: int, attempts: int, exc: Exception, now: datetime) -> None:
        delay = self.backoff(attempts)
        uow.session.execute(
            update(self.tables.outbox)
            .where(self.tables.outbox.c.id == row_id)
            .values(
                attempts=attempts + 1, next_attempt_at=now + delay, last_error=f"{type(exc).__name__}: {exc}"[:2000]
            )
        )

    def next_due(self) -> datetime | None:
        """When the earliest row now backing off is due again (``None``: none is)."""
        outbox = self.tables.outbox
        with self.database.reading() as session:
            due = session.execute(
                select(func.min(outbox.c.next_attempt_at)).where(
                    outbox.c.published_at.is_(None), outbox.c.settled_at.is_(None), outbox.c.attempts > 0
                )
            ).scalar_one()
        return as_utc(due) if due is not None else None

    def settle(self, *, except_events: frozenset[str] = frozenset()) -> int:
        """Mark published rows settled: call only when the bus holds no undelivered message, apart
        from ``except_events`` (events waiting for a delayed redelivery), which stay unsettled."""
        outbox = self.tables.outbox
        with self.database.unit_of_work(quiet=True) as uow:
            query = update(outbox).where(outbox.c.published_at.is_not(None), outbox.c.settled_at.is_(None))
            if except_events:
                query = query.where(outbox.c.event_id.not_in(except_events))
            result = uow.session.execute(query.values(settled_at=datetime.now(UTC)))
            uow.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def recover(self) -> int:
        """Make published-but-unsettled rows pending again (a volatile bus lost them in a crash)."""
        outbox = self.tables.outbox
        with self.database.unit_of_work(quiet=True) as uow:
            result = uow.session.execute(
                update(outbox)
                .where(outbox.c.published_at.is_not(None), outbox.c.settled_at.is_(None))
                .values(published_at=None)
            )
            uow.commit()
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if count:
            log.info("outbox of %s: %d unsettled events will be published again", self.database.name, count)
        return count


def backlog(database: Database) -> dict[str, Any]:
    """The outbox of ``database`` for the health report.

    ``pending``: rows waiting to be published (``oldest``: the first one's creation, in park time
    like every time the API answers);
    ``unroutable``: pending rows the broker returned although a subscriber is declared — an error,
    a handler's queue is missing; ``unsubscribed``: events settled unpublished because nobody
    subscribes to their type (kept as long as settled rows are, see housekeeping)."""
    outbox = database.messaging.outbox
    pending = (outbox.c.published_at.is_(None), outbox.c.settled_at.is_(None))
    with database.reading() as session:
        count, oldest = session.execute(select(func.count(), func.min(outbox.c.created_at)).where(*pending)).one()
        unroutable = session.execute(
            select(func.count()).where(*pending, outbox.c.last_error.like(f"{Unroutable.__name__}:%"))
        ).scalar_one()
        unsubscribed = session.execute(
            select(func.count()).where(outbox.c.published_at.is_(None), outbox.c.settled_at.is_not(None))
        ).scalar_one()
    return {
        "pending": int(count),
        "oldest": as_utc(oldest).astimezone(PARK_TZ).isoformat() if oldest else None,
        "unroutable": int(unroutable),
        "unsubscribed": int(unsubscribed),
    }
