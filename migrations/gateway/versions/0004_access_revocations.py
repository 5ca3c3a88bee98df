"""gateway, issue 11: access tokens revoked before they expire (shared/revocation.py), which token
verification reads; the gateway writes its rows with each identity.access.revoked it publishes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 04:20:00
"""

from migrations.common import create_access_revocations_v1, drop_access_revocations_v1

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_access_revocations_v1()


def downgrade() -> None:
    drop_access_revocations_v1()
