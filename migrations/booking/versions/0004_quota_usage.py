"""booking: a counter of free-hour minutes spent per organisation, kind of space and park month,
filled from the reservations that count, so a booking reads one row instead of summing a month.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections import defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Frozen copies (a migration must not change when the code does): the park's time zone and the
# statuses whose minutes count against the free hours, as they were when this was written.
PARK_TZ = ZoneInfo("Asia/Shanghai")
COUNTED = ("pending_approval", "confirmed", "checked_in", "completed", "no_show")


def upgrade() -> None:
    usage = op.create_table(
        "quota_usage",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("space_kind", sa.String(40), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "space_kind", "month", name="pk_quota_usage"),
    )
    rows = op.get_bind().execute(
        sa.text(
            "SELECT r.org_id, s.kind, r.starts_at, r.quota_minutes FROM reservations r "
            "JOIN spaces s ON s.id = r.space_id "
            "WHERE r.quota_minutes > 0 AND r.status IN (" + ", ".join(f"'{s}'" for s in COUNTED) + ")"
        )
    )
    spent: dict[tuple[str, str, str], int] = defaultdict(int)
    for org_id, kind, starts_at, minutes in rows:
        if isinstance(starts_at, str):  # SQLite hands back text
            starts_at = datetime.fromisoformat(starts_at)
        if starts_at.tzinfo is None:
            starts_at = starts_at.replace(tzinfo=UTC)
        spent[(org_id, kind, starts_at.astimezone(PARK_TZ).strftime("%Y-%m"))] += int(minutes)
    if spent:
        op.bulk_insert(
            usage,
            [{"org_id": o, "space_kind": k, "month": m, "minutes": n} for (o, k, m), n in sorted(spent.items())],
        )


def downgrade() -> None:
    op.drop_table("quota_usage")
