"""consulting: messaging tables and the directory of organisations.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from migrations.common import create_directory_v1, create_messaging_v1, drop_directory_v1, drop_messaging_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_v1()
    create_directory_v1()


def downgrade() -> None:
    drop_directory_v1()
    drop_messaging_v1()
