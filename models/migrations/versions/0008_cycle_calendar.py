"""each programme's calendar: its opening day and its consolidation day

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

``programme.opening_day`` / ``opening_month`` and ``consolidation_days_after_deadline``, read
by the daily ``cycle-calendar`` deployment. The server defaults (02/11, the day after the last
day) are what the fixed schedules did, so a stored programme keeps its calendar until its
files are loaded again. Plain ADD/DROP COLUMN on both databases (see 0006).
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('programme', sa.Column('opening_day', sa.Integer(), server_default='2', nullable=False))
    op.add_column('programme', sa.Column('opening_month', sa.Integer(), server_default='11', nullable=False))
    op.add_column('programme', sa.Column('consolidation_days_after_deadline', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    op.drop_column('programme', 'consolidation_days_after_deadline')
    op.drop_column('programme', 'opening_month')
    op.drop_column('programme', 'opening_day')
