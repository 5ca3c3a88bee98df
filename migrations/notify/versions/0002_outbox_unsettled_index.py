"""notify: the outbox's unsettled rows by a partial index (migrations.common.upgrade_messaging_v2).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from migrations.common import downgrade_messaging_v2, upgrade_messaging_v2

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_messaging_v2()


def downgrade() -> None:
    downgrade_messaging_v2()
