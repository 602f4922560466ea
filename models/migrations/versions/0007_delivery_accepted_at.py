"""the moment the relay accepted a message, written as it happens

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

A delivery run records its outcomes per batch; ``accepted_at`` is written (with the relay's
reply) as soon as the relay accepts a message, beside the data marks, so that a run killed
before recording its batch leaves the accepted messages sent, not unknown.
"""
from alembic import op
import sqlalchemy as sa
import models.orm.base


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outgoing_message', sa.Column('accepted_at', models.orm.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('outgoing_message', 'accepted_at')
