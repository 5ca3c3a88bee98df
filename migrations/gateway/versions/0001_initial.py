"""gateway: messaging tables, identity (organisations, users, API clients), refresh tokens, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from migrations.common import BIG_ID, TS, create_messaging_v1, drop_messaging_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_v1()
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_zh", sa.String(200)),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("contact_email", sa.String(254)),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organisations"),
        sa.UniqueConstraint("name", name="uq_organisations_name"),
        sa.CheckConstraint("status IN ('active', 'suspended')", name="ck_organisations_status"),
        sa.CheckConstraint("version >= 1", name="ck_organisations_version"),
    )
    op.create_index("ix_organisations_kind", "organisations", ["kind"])
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("organisation_id", sa.String(36), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name="fk_users_organisation_id_organisations"
        ),
        sa.CheckConstraint("version >= 1", name="ck_users_version"),
    )
    op.create_index("ix_users_organisation_id", "users", ["organisation_id"])
    op.create_table(
        "api_clients",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("organisation_id", sa.String(36), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("secret_rotated_at", TS),
        sa.PrimaryKeyConstraint("client_id", name="pk_api_clients"),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name="fk_api_clients_organisation_id_organisations"
        ),
        sa.CheckConstraint("version >= 1", name="ck_api_clients_version"),
    )
    op.create_index("ix_api_clients_organisation_id", "api_clients", ["organisation_id"])
    op.create_table(
        "refresh_tokens",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("family_id", sa.String(36), nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS),
        sa.Column("replaced_by", sa.String(64)),
        sa.Column("revoked_at", TS),
        sa.Column("revoked_reason", sa.String(40)),
        sa.PrimaryKeyConstraint("jti", name="pk_refresh_tokens"),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_index("ix_refresh_tokens_subject", "refresh_tokens", ["subject"])
    op.create_table(
        "audit_entries",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_state", sa.JSON()),
        sa.Column("to_state", sa.JSON()),
        sa.Column("reason", sa.Text()),
        sa.Column("correlation_id", sa.String(128)),
        sa.PrimaryKeyConstraint("id", name="pk_audit_entries"),
    )
    op.create_index("ix_audit_entries_entity_entity_id", "audit_entries", ["entity", "entity_id"])


def downgrade() -> None:
    op.drop_table("audit_entries")
    op.drop_table("refresh_tokens")
    op.drop_table("api_clients")
    op.drop_table("users")
    op.drop_table("organisations")
    drop_messaging_v1()
