"""The transactional outbox and the relay that publishes from it.

``enqueue`` writes an event in the caller's transaction; nothing touches the broker until that
transaction commits. The relay then publishes pending rows in id order and marks them published.
A relay killed between publishing and marking publishes the row again on its next run; consumers'
inboxes drop the duplicate.

On a durable broker (RabbitMQ with publisher confirms and ``mandatory``) a confirmed row is also
*settled*. On the volatile embedded bus a row is settled only once the bus has seen every queue
drained (:meth:`Relay.settle`); at start, published-but-unsettled rows are published again
(:meth:`Relay.recover`), because a killed process lost whatever its in-memory queues held.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, insert, select, update

from shared.bus.tables import MessagingTables
from shared.clock import as_utc
from shared.events import Event, validate

if TYPE_CHECKING:
    from shared.db import Database, UnitOfWork

log = logging.getLogger(__name__)


class Unroutable(RuntimeError):
    """The broker returned a ``mandatory`` message: no queue is bound for its type yet."""


class Publisher(Protocol):
    def publish(self, envelope: Mapping[str, Any]) -> None:
        """Publish one envelope and return once the broker has it; raise when it does not."""


def enqueue(
    uow: UnitOfWork,
    type: str,
    data: Mapping[str, Any],
    *,
    subject: str | None,
    orgid: str | None,
    version: int | None = None,
) -> str:
    """Validate and add one event to ``uow``'s outbox; see :meth:`shared.db.UnitOfWork.publish`."""
    version, payload = validate(type, version, dict(data))
    tables: MessagingTables = uow.database.messaging
    event = Event(
        type=type,
        source=f"/parkhub/{uow.database.name}",
        data=payload,
        version=version,
        subject=subject,
        orgid=orgid,
        correlationid=uow.context.get("correlationid"),
        causationid=uow.context.get("causationid"),
    )
    uow.session.execute(
        insert(tables.outbox).values(
            event_id=event.id,
            type=type,
            envelope=json.dumps(event.to_dict(), separators=(",", ":")),
            created_at=event.time,
        )
    )
    return event.id


class Relay:
    """Publishes one database's outbox in id order, except that a row backing off after a failure
    (say, unroutable) lets the rows behind it go first. Safe to run in several processes at once
    on PostgreSQL: rows are claimed with ``FOR UPDATE SKIP LOCKED``, so the relay publishes while
    its claiming transaction is open — the one place the broker is called inside a transaction,
    and one that changes nothing but the outbox's own bookkeeping."""

    def __init__(
        self,
        database: Database,
        publisher: Publisher,
        *,
        durable: bool,
        batch_size: int = 200,
        max_backoff: timedelta = timedelta(minutes=5),
    ) -> None:
        self.database = database
        self.tables: MessagingTables = database.messaging
        self.publisher = publisher
        self.durable = durable
        self.batch_size = batch_size
        self.max_backoff = max_backoff

    def run_once(self) -> int:
        """Publish what is pending; return how many rows were published."""
        outbox = self.tables.outbox
        now = datetime.now(UTC)
        with self.database.unit_of_work() as uow:
            rows = uow.session.execute(
                select(outbox.c.id, outbox.c.envelope, outbox.c.attempts, outbox.c.next_attempt_at)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            published: list[int] = []
            for row in rows:
                if row.next_attempt_at is not None and as_utc(row.next_attempt_at) > now:
                    continue  # backing off (e.g. unroutable): the rows behind it need not wait
                try:
                    self.publisher.publish(json.loads(row.envelope))
                except Exception as exc:  # noqa: BLE001 - any broker failure postpones the row
                    self._postpone(uow, row.id, row.attempts, exc, now)
                    log.warning("outbox row %s not published: %s", row.id, exc)
                    # The broker is likely down: stop this pass rather than fail every row.
                    break
                published.append(row.id)
            if published:
                values: dict[str, Any] = {"published_at": now, "last_error": None}
                if self.durable:
                    values["settled_at"] = now
                uow.session.execute(update(outbox).where(outbox.c.id.in_(published)).values(**values))
            uow.commit()
        return len(published)

    def _postpone(self, uow: UnitOfWork, row_id: int, attempts: int, exc: Exception, now: datetime) -> None:
        delay = min(timedelta(seconds=0.5 * 2**attempts), self.max_backoff)
        uow.session.execute(
            update(self.tables.outbox)
            .where(self.tables.outbox.c.id == row_id)
            .values(attempts=attempts + 1, next_attempt_at=now + delay, last_error=str(exc)[:2000])
        )

    def settle(self) -> int:
        """Mark every published row settled: call only when the bus holds no undelivered message."""
        outbox = self.tables.outbox
        with self.database.unit_of_work() as uow:
            result = uow.session.execute(
                update(outbox)
                .where(outbox.c.published_at.is_not(None), outbox.c.settled_at.is_(None))
                .values(settled_at=datetime.now(UTC))
            )
            uow.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def recover(self) -> int:
        """Make published-but-unsettled rows pending again (a volatile bus lost them in a crash)."""
        outbox = self.tables.outbox
        with self.database.unit_of_work() as uow:
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
    """How much of ``database``'s outbox waits to be published, for the health report."""
    outbox = database.messaging.outbox
    with database.reading() as session:
        count, oldest = session.execute(
            select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
        ).one()
    return {"pending": int(count), "oldest": as_utc(oldest).isoformat() if oldest else None}
