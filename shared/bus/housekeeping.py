"""Housekeeping of the messaging tables, run by every worker (and the embedded bus) each hour.

- settled outbox rows older than :data:`OUTBOX_KEPT` are deleted (published and, on the embedded
  bus, consumed: nothing will publish them again);
- inbox entries older than :data:`INBOX_KEPT` are deleted: a duplicate can only come from a relay
  republishing an unsettled row or a broker redelivering, both long before that;
- idempotency keys older than their 24 hours are deleted;
- access revocations past their ``expires_at`` are deleted: every token they concern has expired
  (:mod:`shared.revocation`; the gateway's database has the table too).
Unpublished outbox rows and dead letters are never touched.
"""

from __future__ import annotations

from datetime import timedelta

from shared.bus.tables import IDEMPOTENCY_KEYS_KEPT
from shared.clock import utcnow
from shared.db import Database
from shared.revocation import TABLE_NAME as REVOCATIONS
from shared.revocation import purge_expired_revocations

OUTBOX_KEPT = timedelta(days=7)
INBOX_KEPT = timedelta(days=30)
EVERY_SECONDS = 3600.0


def sweep(database: Database) -> dict[str, int]:
    """Delete what is past keeping in ``database``; return how many rows of each table went."""
    tables = database.messaging
    now = utcnow()
    with database.unit_of_work() as uow:
        outbox = uow.session.execute(
            tables.outbox.delete().where(
                tables.outbox.c.settled_at.is_not(None), tables.outbox.c.settled_at < now - OUTBOX_KEPT
            )
        )
        inbox = uow.session.execute(tables.inbox.delete().where(tables.inbox.c.handled_at < now - INBOX_KEPT))
        keys = uow.session.execute(
            tables.idempotency_keys.delete().where(tables.idempotency_keys.c.created_at < now - IDEMPOTENCY_KEYS_KEPT)
        )
        revocations_table = tables.outbox.metadata.tables.get(REVOCATIONS)
        revocations = 0 if revocations_table is None else purge_expired_revocations(revocations_table, uow=uow)
        uow.commit()
    return {
        "outbox": int(outbox.rowcount or 0),  # type: ignore[attr-defined]
        "inbox": int(inbox.rowcount or 0),  # type: ignore[attr-defined]
        "idempotency_keys": int(keys.rowcount or 0),  # type: ignore[attr-defined]
        "access_revocations": revocations,
    }
