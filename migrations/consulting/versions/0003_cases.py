"""consulting: the catalogue (categories, service items, the firms serving them), the business
calendar (weekly hours, years and their holidays and make-up days), cases with their audit trail,
pauses and SLA clocks (and the notices the breach job sent, once each), messages with attachments
(bytes in attachment_blobs by default), quotes, ratings and the yearly case numbers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment_blobs",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_attachment_blobs")),
    )
    op.create_table(
        "calendar_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_settings")),
    )
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("loaded_by", sa.String(length=120), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_years")),
    )
    op.create_table(
        "case_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_case_counters")),
    )
    op.create_table(
        "categories",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("routing", sa.String(length=20), nullable=False),
        sa.Column("last_routed_firm", sa.String(length=64), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_categories")),
    )
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["year"], ["calendar_years.year"], name=op.f("fk_calendar_days_year_calendar_years"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_days")),
    )
    with op.batch_alter_table("calendar_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_days_year"), ["year"], unique=False)

    op.create_table(
        "firm_categories",
        sa.Column("firm_org_id", sa.String(length=64), nullable=False),
        sa.Column("category_code", sa.String(length=64), nullable=False),
        sa.Column("declared_by", sa.String(length=120), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"], ["categories.code"], name=op.f("fk_firm_categories_category_code_categories")
        ),
        sa.PrimaryKeyConstraint("firm_org_id", "category_code", name=op.f("pk_firm_categories")),
    )
    with op.batch_alter_table("firm_categories", schema=None) as batch_op:
        batch_op.create_index("ix_firm_categories_category_code", ["category_code"], unique=False)

    op.create_table(
        "service_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("category_code", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("intake_fields", sa.JSON(), nullable=False),
        sa.Column("fee_guidance", sa.Text(), nullable=False),
        sa.Column("fee_guidance_zh", sa.Text(), nullable=False),
        sa.Column("fee_from", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("fee_to", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("quote_required", sa.Boolean(), nullable=False),
        sa.Column("sla_policy", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"], ["categories.code"], name=op.f("fk_service_items_category_code_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_items")),
        sa.UniqueConstraint("code", name=op.f("uq_service_items_code")),
    )
    with op.batch_alter_table("service_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_items_category_code"), ["category_code"], unique=False)

    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("submitted_by", sa.String(length=120), nullable=False),
        sa.Column("submitted_by_name", sa.String(length=200), nullable=True),
        sa.Column("category_code", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("firm_org_id", sa.String(length=64), nullable=True),
        sa.Column("declined_by", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("solution", sa.Text(), nullable=True),
        sa.Column("solution_proposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["category_code"], ["categories.code"], name=op.f("fk_cases_category_code_categories")),
        sa.ForeignKeyConstraint(["item_id"], ["service_items.id"], name=op.f("fk_cases_item_id_service_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("number", name=op.f("uq_cases_number")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_firm_org_id"), ["firm_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_status"), ["status"], unique=False)
        batch_op.create_index("ix_cases_status_category_code", ["status", "category_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_submitted_by"), ["submitted_by"], unique=False)

    op.create_table(
        "case_pauses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_pauses_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_pauses")),
    )
    with op.batch_alter_table("case_pauses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_pauses_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_transitions_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transitions")),
    )
    with op.batch_alter_table("case_transitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_transitions_case_id"), ["case_id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("author_org_id", sa.String(length=64), nullable=False),
        sa.Column("author_side", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_messages_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_case_id_created_at", ["case_id", "created_at"], unique=False)

    op.create_table(
        "quotes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("firm_org_id", sa.String(length=64), nullable=False),
        sa.Column("fee", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("proposed_by", sa.String(length=120), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_by", sa.String(length=120), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_quotes_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
    )
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quotes_case_id"), ["case_id"], unique=False)

    op.create_table(
        "ratings",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("firm_org_id", sa.String(length=64), nullable=True),
        sa.Column("rated_by", sa.String(length=120), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_ratings_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_ratings")),
    )
    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("clock", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("firm_org_id", sa.String(length=64), nullable=True),
        sa.Column("target_minutes", sa.Integer(), nullable=False),
        sa.Column("warn_share", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_sla_clocks_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clocks")),
    )
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_clocks_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_sla_clocks_running", ["met_at", "stopped_at"], unique=False)

    op.create_table(
        "attachments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage", sa.String(length=20), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_attachments_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_attachments_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_message_id"), ["message_id"], unique=False)

    op.create_table(
        "sla_notices",
        sa.Column("clock_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clock_id"], ["sla_clocks.id"], name=op.f("fk_sla_notices_clock_id_sla_clocks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("clock_id", "kind", name=op.f("pk_sla_notices")),
    )


def downgrade() -> None:
    op.drop_table("sla_notices")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_message_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_case_id"))

    op.drop_table("attachments")
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_clocks_running")
        batch_op.drop_index(batch_op.f("ix_sla_clocks_case_id"))

    op.drop_table("sla_clocks")
    op.drop_table("ratings")
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quotes_case_id"))

    op.drop_table("quotes")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_case_id_created_at")

    op.drop_table("messages")
    with op.batch_alter_table("case_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_transitions_case_id"))

    op.drop_table("case_transitions")
    with op.batch_alter_table("case_pauses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_pauses_case_id"))

    op.drop_table("case_pauses")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_submitted_by"))
        batch_op.drop_index("ix_cases_status_category_code")
        batch_op.drop_index(batch_op.f("ix_cases_status"))
        batch_op.drop_index(batch_op.f("ix_cases_org_id"))
        batch_op.drop_index(batch_op.f("ix_cases_firm_org_id"))

    op.drop_table("cases")
    with op.batch_alter_table("service_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_items_category_code"))

    op.drop_table("service_items")
    with op.batch_alter_table("firm_categories", schema=None) as batch_op:
        batch_op.drop_index("ix_firm_categories_category_code")

    op.drop_table("firm_categories")
    with op.batch_alter_table("calendar_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_days_year"))

    op.drop_table("calendar_days")
    op.drop_table("categories")
    op.drop_table("case_counters")
    op.drop_table("calendar_years")
    op.drop_table("calendar_settings")
    op.drop_table("attachment_blobs")
