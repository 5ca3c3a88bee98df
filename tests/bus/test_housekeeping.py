"""Housekeeping drops only what can no longer matter: old settled outbox rows, old inbox entries,
expired idempotency keys and access revocations whose tokens have all expired; never a pending
event, a dead letter or a revocation that still decides."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select, update

from shared.bus.housekeeping import sweep
from shared.bus.inbox import Inbox, Outcome
from shared.clock import utcnow
from shared.db import Database
from shared.events import Event
from shared.revocation import define_revocation_table
from tests.bus.conftest import REGISTERED, organisation, publish


def count(db: Database, table) -> int:  # type: ignore[no-untyped-def]
    with db.reading() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def test_sweep_keeps_what_may_still_matter(db: Database, inbox: Inbox) -> None:
    tables = db.messaging
    long_ago = utcnow() - timedelta(days=40)
    old_settled, old_pending, fresh_settled = publish(db, "Old", "Never published", "Fresh")
    with db.unit_of_work() as uow:
        outbox = tables.outbox
        uow.session.execute(
            update(outbox)
            .where(outbox.c.event_id == old_settled)
            .values(created_at=long_ago, published_at=long_ago, settled_at=long_ago)
        )
        uow.session.execute(update(outbox).where(outbox.c.event_id == old_pending).values(created_at=long_ago))
        uow.session.execute(
            update(outbox).where(outbox.c.event_id == fresh_settled).values(published_at=utcnow(), settled_at=utcnow())
        )
        uow.session.execute(
            insert(tables.inbox).values(
                event_id="old-event", type=REGISTERED, source="/parkhub/gateway", handled_at=long_ago
            )
        )
        uow.session.execute(
            insert(tables.idempotency_keys).values(
                principal="user:alice", key="k1", request_hash="x", created_at=long_ago
            )
        )
        # notify's migrations made the table; the bus's view of the database learns it here.
        revocations = define_revocation_table(tables.outbox.metadata)
        for key, expires_at in (
            ("expired", utcnow() - timedelta(minutes=1)),
            ("live", utcnow() + timedelta(minutes=10)),
        ):
            uow.session.execute(
                insert(revocations).values(
                    kind="subject",
                    key=key,
                    not_before=utcnow() - timedelta(minutes=20),
                    expires_at=expires_at,
                    reason="deactivated",
                )
            )
        uow.commit()
    handled = Event(type=REGISTERED, source="/parkhub/gateway", data=organisation())
    assert inbox.deliver(handled.to_dict()) is Outcome.HANDLED
    assert inbox.deliver({"not": "an event"}) is Outcome.DEAD_LETTERED

    assert sweep(db) == {"outbox": 1, "inbox": 1, "idempotency_keys": 1, "access_revocations": 1}
    with db.reading() as session:
        left = {row.event_id for row in session.execute(select(tables.outbox.c.event_id))}
    assert left == {old_pending, fresh_settled}
    assert count(db, tables.inbox) == 1  # the fresh one still guards against its duplicates
    assert inbox.deliver(handled.to_dict()) is Outcome.DUPLICATE
    assert count(db, tables.dead_letters) == 1
    with db.reading() as session:
        assert [row.key for row in session.execute(select(revocations.c.key))] == ["live"]
    assert sweep(db) == {"outbox": 0, "inbox": 0, "idempotency_keys": 0, "access_revocations": 0}
