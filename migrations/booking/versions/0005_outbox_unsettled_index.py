"""booking: the outbox's unsettled rows by a partial index (migrations.common.upgrade_messaging_v2).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from migrations.common import downgrade_messaging_v2, upgrade_messaging_v2

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_messaging_v2()


def downgrade() -> None:
    downgrade_messaging_v2()
