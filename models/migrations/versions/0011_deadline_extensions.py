"""agencies' requests for more time and the coordinator's decisions

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

``deadline_extension`` holds each request (date asked, reason) with its decision (date granted,
note, who and when); ``request.extended_until`` the agency's own last day once one is granted
(null: the cycle's); ``programme.extension_max_days`` the programme's limit (0, none offered,
until the programme's files are loaded again). On this branch it follows 0009; the lead
re-points ``down_revision`` when merging after 0010.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'deadline_extension',
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('requested_until', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('requested_by', sa.Text(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('granted_until', sa.Date(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('decided_by', sa.Text(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['request_id'], ['request.id'],
            name=op.f('fk_deadline_extension__request_id__request'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_extension')),
    )
    op.create_index(
        op.f('ix_deadline_extension_request_id'), 'deadline_extension', ['request_id'],
        unique=False,
    )
    op.add_column('request', sa.Column('extended_until', sa.Date(), nullable=True))
    op.add_column('programme', sa.Column('extension_max_days', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    op.drop_column('programme', 'extension_max_days')
    op.drop_column('request', 'extended_until')
    op.drop_index(op.f('ix_deadline_extension_request_id'), table_name='deadline_extension')
    op.drop_table('deadline_extension')
