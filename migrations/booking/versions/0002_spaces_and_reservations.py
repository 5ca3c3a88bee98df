"""booking: spaces, closures, quotas, series, reservations, visitors, audit trail, calendar feeds.

On PostgreSQL the database itself refuses double booking: btree_gist lets one GiST exclusion
constraint combine ``space_id =`` with ``tstzrange(hold_start, hold_end) &&`` for the holding
states. SQLite has no such constraint; there writers are serialised (BEGIN IMMEDIATE) and the
overlap check runs inside the same transaction.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric(12, 2)


def upgrade() -> None:
    op.create_table(
        "spaces",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("building", sa.String(100), nullable=False),
        sa.Column("floor", sa.String(20)),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("layouts", sa.JSON(), nullable=False),
        sa.Column("equipment", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("min_duration_minutes", sa.Integer(), nullable=False),
        sa.Column("max_duration_minutes", sa.Integer(), nullable=False),
        sa.Column("lead_time_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("setup_minutes", sa.Integer(), nullable=False),
        sa.Column("cleanup_minutes", sa.Integer(), nullable=False),
        sa.Column("approval_mode", sa.String(20), nullable=False),
        sa.Column("approval_threshold", sa.Integer()),
        sa.Column("hourly_price", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("free_cancel_hours", sa.Integer(), nullable=False),
        sa.Column("late_cancel_fee_percent", sa.Numeric(5, 2), nullable=False),
        sa.Column("check_in_opens_minutes", sa.Integer(), nullable=False),
        sa.Column("check_in_grace_minutes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_spaces"),
        sa.UniqueConstraint("code", name="uq_spaces_code"),
    )
    op.create_index("ix_spaces_kind", "spaces", ["kind"])

    op.create_table(
        "closures",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("space_id", sa.String(36), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_closures"),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"], name="fk_closures_space_id_spaces", ondelete="CASCADE"),
    )
    op.create_index("ix_closures_space_id_starts_at", "closures", ["space_id", "starts_at"])

    op.create_table(
        "quota_rules",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("space_kind", sa.String(40), nullable=False),
        sa.Column("free_hours_per_month", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "space_kind", name="pk_quota_rules"),
    )

    op.create_table(
        "series",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("space_id", sa.String(36), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("booked_by", sa.String(120), nullable=False),
        sa.Column("rrule", sa.Text(), nullable=False),
        sa.Column("first_start", TS, nullable=False),
        sa.Column("first_end", TS, nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_series"),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"], name="fk_series_space_id_spaces"),
    )
    op.create_index("ix_series_org_id", "series", ["org_id"])

    op.create_table(
        "reservations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("space_id", sa.String(36), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("org_kind", sa.String(40), nullable=False),
        sa.Column("booked_by", sa.String(120), nullable=False),
        sa.Column("booked_by_name", sa.String(200)),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("attendees", sa.Integer(), nullable=False),
        sa.Column("layout", sa.String(40)),
        sa.Column("note", sa.Text()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("hold_start", TS, nullable=False),
        sa.Column("hold_end", TS, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("quota_minutes", sa.Integer(), nullable=False),
        sa.Column("billable_minutes", sa.Integer(), nullable=False),
        sa.Column("cancellation_fee", MONEY),
        sa.Column("series_id", sa.String(36)),
        sa.Column("request_id", sa.String(64)),
        sa.Column("requester", sa.String(40)),
        sa.Column("reason", sa.Text()),
        sa.Column("checked_in_at", TS),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reservations"),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"], name="fk_reservations_space_id_spaces"),
        sa.ForeignKeyConstraint(["series_id"], ["series.id"], name="fk_reservations_series_id_series"),
    )
    op.create_index("ix_reservations_space_id_hold_start", "reservations", ["space_id", "hold_start"])
    op.create_index("ix_reservations_org_id_starts_at", "reservations", ["org_id", "starts_at"])
    op.create_index("ix_reservations_status_starts_at", "reservations", ["status", "starts_at"])
    op.create_index("ix_reservations_booked_by", "reservations", ["booked_by"])
    op.create_index("ix_reservations_series_id", "reservations", ["series_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE reservations ADD CONSTRAINT ex_reservations_no_overlap "
            "EXCLUDE USING gist (space_id WITH =, tstzrange(hold_start, hold_end, '[)') WITH &&) "
            "WHERE (status IN ('pending_approval', 'confirmed', 'checked_in'))"
        )

    op.create_table(
        "visitors",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("reservation_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("company", sa.String(200)),
        sa.Column("car_plate", sa.String(16)),
        sa.PrimaryKeyConstraint("id", name="pk_visitors"),
        sa.ForeignKeyConstraint(
            ["reservation_id"], ["reservations.id"], name="fk_visitors_reservation_id_reservations", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_visitors_reservation_id", "visitors", ["reservation_id"])

    op.create_table(
        "transitions",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("reservation_id", sa.String(36), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("actor_name", sa.String(200)),
        sa.Column("reason", sa.Text()),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transitions"),
        sa.ForeignKeyConstraint(
            ["reservation_id"], ["reservations.id"], name="fk_transitions_reservation_id_reservations",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_transitions_reservation_id", "transitions", ["reservation_id"])

    op.create_table(
        "calendar_feeds",
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("rotated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("scope", "owner_id", name="pk_calendar_feeds"),
        sa.UniqueConstraint("secret", name="uq_calendar_feeds_secret"),
    )


def downgrade() -> None:
    for table in ("calendar_feeds", "transitions", "visitors", "reservations", "series", "quota_rules", "closures"):
        op.drop_table(table)
    op.drop_table("spaces")
