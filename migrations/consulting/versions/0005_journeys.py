"""consulting, issue 10: meetings asked for on a case (a room held by booking), and a case's origin
(the request of another service it answers, one case each) and valuation (amount and report).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 00:21:58.184708
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meetings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.String(length=120), nullable=False),
    sa.Column('requested_by_name', sa.String(length=200), nullable=True),
    sa.Column('requested_by_org_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attendees', sa.Integer(), nullable=False),
    sa.Column('needs', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reservation_id', sa.String(length=36), nullable=True),
    sa.Column('space_name', sa.String(length=200), nullable=True),
    sa.Column('space_name_zh', sa.String(length=200), nullable=True),
    sa.Column('rule', sa.String(length=60), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('alternatives', sa.JSON(), nullable=False),
    sa.Column('correlation_id', sa.String(length=128), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_meetings_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings')),
    sa.UniqueConstraint('request_id', name=op.f('uq_meetings_request_id'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meetings_status'), ['status'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('origin_ref', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('origin_subject', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('valuation_amount', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('valuation_currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('valuation_report_id', sa.String(length=36), nullable=True))
        batch_op.create_unique_constraint('uq_cases_origin_origin_ref', ['origin', 'origin_ref'])



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('uq_cases_origin_origin_ref', type_='unique')
        batch_op.drop_column('valuation_report_id')
        batch_op.drop_column('valuation_currency')
        batch_op.drop_column('valuation_amount')
        batch_op.drop_column('origin_subject')
        batch_op.drop_column('origin_ref')
        batch_op.drop_column('origin')

    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_status'))
        batch_op.drop_index(batch_op.f('ix_meetings_case_id'))

    op.drop_table('meetings')
