"""consulting, after the review of issue 8: a case keeps whether its item required a quote when
it was submitted; a message the service wrote itself keeps its notice (a code and values) to be
read in each reader's language; quotes and ratings keep the names of who proposed, answered and
rated; a calendar year has a version for If-Match.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("quote_required", sa.Boolean(), nullable=False, server_default=sa.text("false")))
    # Cases submitted before keep what their item says now: the best that is known of then.
    op.execute(
        "UPDATE cases SET quote_required = "
        "(SELECT quote_required FROM service_items WHERE service_items.id = cases.item_id)"
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("notice", sa.JSON(), nullable=True))
    with op.batch_alter_table("quotes") as batch:
        batch.add_column(sa.Column("proposed_by_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("answered_by_name", sa.String(200), nullable=True))
    with op.batch_alter_table("ratings") as batch:
        batch.add_column(sa.Column("rated_by_name", sa.String(200), nullable=True))
    with op.batch_alter_table("calendar_years") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")))


def downgrade() -> None:
    with op.batch_alter_table("calendar_years") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("ratings") as batch:
        batch.drop_column("rated_by_name")
    with op.batch_alter_table("quotes") as batch:
        batch.drop_column("answered_by_name")
        batch.drop_column("proposed_by_name")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("notice")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("quote_required")
