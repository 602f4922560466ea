"""flags of implausible values stored with the revision; a programme's link validity

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

``indicator.plausible_min/max`` and ``programme.year_on_year_factor`` (the checks of
``programme.yaml``, null/3 until the programme's files are loaded again), ``programme.link_validity``
('days' keeps every stored programme's links as they were), and on ``indicator_value`` the flags
of a value that looked wrong with whether the clerk confirmed them. Plain ADD/DROP COLUMN (see
0006: batch mode would copy tables that others refer to).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    op.add_column('indicator', sa.Column('plausible_min', sa.Numeric(18, 4), nullable=True))
    op.add_column('indicator', sa.Column('plausible_max', sa.Numeric(18, 4), nullable=True))
    op.add_column('programme', sa.Column('year_on_year_factor', sa.Numeric(10, 4), server_default='3', nullable=False))
    op.add_column('programme', sa.Column('link_validity', sa.String(16), server_default='days', nullable=False))
    op.add_column('indicator_value', sa.Column('flags', JSON, server_default='[]', nullable=False))
    op.add_column('indicator_value', sa.Column('flags_confirmed', sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column('indicator_value', 'flags_confirmed')
    op.drop_column('indicator_value', 'flags')
    op.drop_column('programme', 'link_validity')
    op.drop_column('programme', 'year_on_year_factor')
    op.drop_column('indicator', 'plausible_max')
    op.drop_column('indicator', 'plausible_min')
