"""booking, issue 11: reservations' transitions and admin changes are append-only and hash-chained.

Steps in migrations/audit_chain_v1.py. The rows already there are sealed in id order, so the chain
covers history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 03:40:00
"""

from migrations.audit_chain_v1 import downgrade_audit_chain_v1, upgrade_audit_chain_v1

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

AUDIT_TABLES = {"admin_changes": ["id"], "transitions": ["id"]}
"""Each audit table and the columns its existing rows are sealed by."""


def upgrade() -> None:
    upgrade_audit_chain_v1(AUDIT_TABLES)


def downgrade() -> None:
    downgrade_audit_chain_v1(list(AUDIT_TABLES))
