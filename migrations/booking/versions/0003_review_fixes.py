"""booking: correlation id and occurrence index on reservations, quota versions, the audit trail
of park admin's changes, and the room-hold requests already answered.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("reservations") as batch:
        batch.add_column(sa.Column("correlation_id", sa.String(64)))
        batch.add_column(sa.Column("occurrence", sa.Integer()))
    with op.batch_alter_table("quota_rules") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")))

    op.create_table(
        "admin_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.String(120), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("actor_name", sa.String(200)),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_admin_changes"),
    )
    op.create_index("ix_admin_changes_entity_entity_id", "admin_changes", ["entity", "entity_id"])

    op.create_table(
        "hold_requests",
        sa.Column("requester", sa.String(40), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reservation_id", sa.String(36)),
        sa.Column("rule", sa.String(60)),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("requester", "request_id", name="pk_hold_requests"),
    )


def downgrade() -> None:
    op.drop_table("hold_requests")
    op.drop_index("ix_admin_changes_entity_entity_id", table_name="admin_changes")
    op.drop_table("admin_changes")
    with op.batch_alter_table("quota_rules") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("reservations") as batch:
        batch.drop_column("occurrence")
        batch.drop_column("correlation_id")
