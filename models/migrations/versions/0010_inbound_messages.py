"""messages read from the replies mailbox

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

Agencies may reply to the request with the filled form (issue 16). Each message of the
mailbox is recorded, with what was done with it, before it is moved out of the folder it
arrived in: (UIDVALIDITY, UID) and its Message-ID are unique, so no message is read twice.
"""
import sqlalchemy as sa
from alembic import op

import models.orm.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'inbound_message',
        sa.Column('uid_validity', sa.BigInteger(), nullable=False),
        sa.Column('uid', sa.BigInteger(), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('sender', sa.String(length=320), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('received_at', models.orm.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('sender_mismatch', sa.Boolean(), nullable=False),
        sa.Column('folder', sa.String(length=255), nullable=False),
        sa.Column('moved_at', models.orm.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('submission_id', sa.Integer(), nullable=True),
        sa.Column('answer_message_id', sa.String(length=255), nullable=True),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['request.id'], name=op.f('fk_inbound_message__request_id__request'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_inbound_message__submission_id__submission'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_message')),
        sa.UniqueConstraint('message_id', name=op.f('uq_inbound_message__message_id')),
        sa.UniqueConstraint('uid_validity', 'uid', name=op.f('uq_inbound_message__uid_validity_uid')),
    )
    op.create_index(op.f('ix_inbound_message_request_id'), 'inbound_message', ['request_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_inbound_message_request_id'), table_name='inbound_message')
    op.drop_table('inbound_message')
