"""delivery per recipient, and the moment a message's data was sent

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Every stored message gets one row per To/Cc address, its status taken from the message's
(a message already sent was accepted for every address it listed; a pending or claimed one
waits for all of them).
"""
from alembic import op
import sqlalchemy as sa
import models.orm.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outgoing_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_sent_at', models.orm.base.UTCDateTime(timezone=True), nullable=True))
    recipient = op.create_table('outgoing_recipient',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('last_reply', sa.Text(), nullable=True),
    sa.Column('settled_at', models.orm.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outgoing_message.id'], name=op.f('fk_outgoing_recipient__message_id__outgoing_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_recipient')),
    sa.UniqueConstraint('message_id', 'address', name=op.f('uq_outgoing_recipient__message_id_address'))
    )
    with op.batch_alter_table('outgoing_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoing_recipient_message_id'), ['message_id'], unique=False)

    message = sa.table(
        'outgoing_message',
        sa.column('id', sa.Integer()),
        sa.column('status', sa.String()),
        sa.column('to_addrs', models.orm.base.JSONType),
        sa.column('cc_addrs', models.orm.base.JSONType),
        sa.column('last_reply', sa.Text()),
        sa.column('sent_at', models.orm.base.UTCDateTime(timezone=True)),
    )
    connection = op.get_bind()
    rows = []
    for id_, status, to, cc, reply, sent_at in connection.execute(sa.select(message)):
        settled = status in ('sent', 'failed', 'unknown')
        for address in dict.fromkeys([*(to or []), *(cc or [])]):
            rows.append({
                'message_id': id_,
                'address': address,
                'status': status if settled else 'pending',
                'last_reply': reply if settled else None,
                'settled_at': sent_at if settled else None,
            })
    if rows:
        op.bulk_insert(recipient, rows)


def downgrade() -> None:
    with op.batch_alter_table('outgoing_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_recipient_message_id'))
    op.drop_table('outgoing_recipient')
    with op.batch_alter_table('outgoing_message', schema=None) as batch_op:
        batch_op.drop_column('data_sent_at')
