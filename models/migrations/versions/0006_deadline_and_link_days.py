"""whether the deadline's day counts, each link's own issue day

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

``programme.deadline_inclusive`` (true keeps every stored programme's deadline as it was until
its files are loaded again) and ``request.link_issued_on`` (null: the link of the cycle's
opening day). Plain ADD/DROP COLUMN on both databases: SQLite's batch mode would copy the
programme and request tables, which other tables' foreign keys refer to.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('programme', sa.Column('deadline_inclusive', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('request', sa.Column('link_issued_on', sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column('request', 'link_issued_on')
    op.drop_column('programme', 'deadline_inclusive')
