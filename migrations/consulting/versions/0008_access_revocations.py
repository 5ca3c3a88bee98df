"""consulting, issue 11: access tokens revoked before they expire (shared/revocation.py), which token
verification reads; kept from identity.access.revoked.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 04:20:00
"""

from migrations.common import create_access_revocations_v1, drop_access_revocations_v1

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_access_revocations_v1()


def downgrade() -> None:
    drop_access_revocations_v1()
