"""finance, issue 11: applications' transitions and decisions are append-only and hash-chained.

Steps in migrations/audit_chain_v1.py. The rows already there are sealed in their order (transitions
by id, decisions by decided_at then id), so the chain covers history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 03:40:00
"""

from migrations.audit_chain_v1 import downgrade_audit_chain_v1, upgrade_audit_chain_v1

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

AUDIT_TABLES = {"application_transitions": ["id"], "decisions": ["decided_at", "id"]}
"""Each audit table and the columns its existing rows are sealed by."""


def upgrade() -> None:
    upgrade_audit_chain_v1(AUDIT_TABLES)


def downgrade() -> None:
    downgrade_audit_chain_v1(list(AUDIT_TABLES))
