"""finance, issue 10: valuations of IP-pledge applications asked of consulting, with their answers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:21:59.254449
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('valuation_requests',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('application_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('appraiser_org_id', sa.String(length=64), nullable=True),
    sa.Column('case_id', sa.String(length=36), nullable=True),
    sa.Column('case_number', sa.String(length=20), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('report_name', sa.String(length=200), nullable=True),
    sa.Column('report_attachment_id', sa.String(length=36), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('correlation_id', sa.String(length=128), nullable=True),
    sa.Column('requested_by', sa.String(length=120), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_valuation_requests_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_valuation_requests'))
    )
    with op.batch_alter_table('valuation_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_valuation_requests_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_valuation_requests_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('valuation_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_valuation_requests_status'))
        batch_op.drop_index(batch_op.f('ix_valuation_requests_application_id'))

    op.drop_table('valuation_requests')
