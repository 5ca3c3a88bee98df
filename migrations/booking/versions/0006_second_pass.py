"""booking, second pass: spaces that close on public holidays and the park's calendar of
holidays and make-up working days; exhibition booths let inside a booking of a whole hall;
the kind of a visitor's car plate.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spaces") as batch:
        batch.add_column(
            sa.Column("closes_on_public_holidays", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )
        batch.add_column(sa.Column("booths", sa.Integer(), nullable=True))
    with op.batch_alter_table("visitors") as batch:
        batch.add_column(sa.Column("plate_kind", sa.String(10), nullable=True))
    # Plates stored before the kind existed were only checked for length: call them "other".
    op.execute("UPDATE visitors SET plate_kind = 'other' WHERE car_plate IS NOT NULL")
    op.create_table(
        "park_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_park_days"),
    )
    op.create_table(
        "booth_bookings",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("reservation_id", sa.String(36), nullable=False),
        sa.Column("booth", sa.Integer(), nullable=False),
        sa.Column("exhibitor", sa.String(200), nullable=False),
        sa.Column("exhibitor_org_id", sa.String(64), nullable=True),
        sa.Column("contact", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name="fk_booth_bookings_reservation_id_reservations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_booth_bookings"),
        sa.UniqueConstraint("reservation_id", "booth", name="uq_booth_bookings_reservation_id_booth"),
    )


def downgrade() -> None:
    op.drop_table("booth_bookings")
    op.drop_table("park_days")
    with op.batch_alter_table("visitors") as batch:
        batch.drop_column("plate_kind")
    with op.batch_alter_table("spaces") as batch:
        batch.drop_column("booths")
        batch.drop_column("closes_on_public_holidays")
