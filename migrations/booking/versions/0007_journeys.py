"""booking, issue 10: tenants' financing rounds (accepted venture-capital and guide-fund offers, from
finance) and what an event booking is for (roadshow, product launch).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 00:22:00.286444
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('financing_rounds',
    sa.Column('application_id', sa.String(length=36), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('product_kind', sa.String(length=20), nullable=False),
    sa.Column('partner_org_id', sa.String(length=64), nullable=True),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_financing_rounds'))
    )
    with op.batch_alter_table('financing_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_financing_rounds_org_id'), ['org_id'], unique=False)

    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('purpose_ref', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_column('purpose_ref')
        batch_op.drop_column('purpose')

    with op.batch_alter_table('financing_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_financing_rounds_org_id'))

    op.drop_table('financing_rounds')
