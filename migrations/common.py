"""Schema steps several databases share, written out once and frozen by version.

A released step never changes: a later change to these tables is a new step (``..._v2``) in a
new migration of each database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def create_messaging_v1() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(120), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("published_at", TS),
        sa.Column("settled_at", TS),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["published_at", "id"])
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(120), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("handled_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_inbox"),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(120), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", TS, nullable=False),
        sa.Column("replayed_at", TS),
        sa.Column("replayed_by", sa.String(120)),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index("ix_dead_letters_event_id", "dead_letters", ["event_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(120), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer()),
        sa.Column("headers", sa.Text()),
        sa.Column("body", sa.LargeBinary()),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", name="pk_idempotency_keys"),
    )


def upgrade_messaging_v2() -> None:
    """The outbox's pending rows by a partial index of the unsettled ones (the relay, health and
    settling read nothing else); it replaces ix_outbox_pending, which indexed every row kept."""
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.create_index(
        "ix_outbox_unsettled",
        "outbox",
        ["published_at", "id"],
        postgresql_where=sa.text("settled_at IS NULL"),
        sqlite_where=sa.text("settled_at IS NULL"),
    )


def downgrade_messaging_v2() -> None:
    op.drop_index("ix_outbox_unsettled", table_name="outbox")
    op.create_index("ix_outbox_pending", "outbox", ["published_at", "id"])


def drop_messaging_v1() -> None:
    for table in ("idempotency_keys", "dead_letters", "inbox", "outbox"):
        op.drop_table(table)


def create_directory_v1() -> None:
    op.create_table(
        "directory_organisations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_zh", sa.String(200)),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_directory_organisations"),
    )
    op.create_index("ix_directory_organisations_kind", "directory_organisations", ["kind"])


def drop_directory_v1() -> None:
    op.drop_table("directory_organisations")


def create_access_revocations_v1() -> None:
    """Access tokens revoked before they expire (shared.revocation): a subject's cut-off or a
    sign-in's, kept until ``expires_at``."""
    op.create_table(
        "access_revocations",
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("not_before", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_access_revocations"),
    )
    op.create_index("ix_access_revocations_expires_at", "access_revocations", ["expires_at"])


def drop_access_revocations_v1() -> None:
    op.drop_index("ix_access_revocations_expires_at", table_name="access_revocations")
    op.drop_table("access_revocations")
