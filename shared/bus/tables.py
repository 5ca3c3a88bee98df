"""The messaging tables every service database holds: outbox, inbox, dead letters, idempotency keys.

They are Core tables added to each service's own metadata; each database's migrations create them
(``migrations/common.py``), and a test checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import postgresql, sqlite

# An autoincrementing 64-bit key on PostgreSQL that stays an INTEGER PRIMARY KEY on SQLite.
BigId = BigInteger().with_variant(sqlite.INTEGER(), "sqlite").with_variant(postgresql.BIGINT(), "postgresql")


IDEMPOTENCY_KEYS_KEPT = timedelta(hours=24)
"""How long an ``Idempotency-Key`` answers with its first response (then housekeeping drops it)."""


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table
    dead_letters: Table
    idempotency_keys: Table


def define_messaging_tables(metadata: MetaData) -> MessagingTables:
    """Add the messaging tables to ``metadata`` and return them."""
    outbox = Table(
        "outbox",
        metadata,
        # Rows are published in id order (ix_outbox_unsettled below).
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("type", String(120), nullable=False),
        Column("envelope", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True)),
        # On a volatile bus a published message is only safe once consumed ("settled").
        Column("settled_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("next_attempt_at", DateTime(timezone=True)),
        Column("last_error", Text),
    )
    # Every query of the relay, of health's pending count and of settling reads unsettled rows
    # only, in id order: a partial index of them stays as small as the backlog, however many
    # settled rows (unsubscribed events among them, published_at empty) are kept for 7 days.
    unsettled = outbox.c.settled_at.is_(None)
    Index(
        "ix_outbox_unsettled",
        outbox.c.published_at,
        outbox.c.id,
        postgresql_where=unsettled,
        sqlite_where=unsettled,
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("type", String(120), nullable=False),
        Column("source", String(200), nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False),
    )
    dead_letters = Table(
        "dead_letters",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, index=True),
        Column("type", String(120), nullable=False),
        Column("envelope", Text, nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("failed_at", DateTime(timezone=True), nullable=False),
        Column("replayed_at", DateTime(timezone=True)),
        Column("replayed_by", String(120)),
    )
    idempotency_keys = Table(
        "idempotency_keys",
        metadata,
        Column("principal", String(120), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status", Integer),
        Column("headers", Text),
        Column("body", LargeBinary),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    return MessagingTables(outbox, inbox, dead_letters, idempotency_keys)
