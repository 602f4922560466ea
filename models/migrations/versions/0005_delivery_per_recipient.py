"""delivery per recipient, the moment a message's data was sent, bodies apart

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Every stored message gets one row per To/Cc address, its status taken from the message's
(a message already sent was accepted for every address it listed; a pending or claimed one
waits for all of them). The message bytes move to their own table (SQLite rewrote them with
every status change), and due messages are found through an index.
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

    op.create_table('outgoing_message_body',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outgoing_message.id'], name=op.f('fk_outgoing_message_body__message_id__outgoing_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_message_body')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outgoing_message_body__message_id'))
    )
    op.execute("INSERT INTO outgoing_message_body (message_id, raw) SELECT id, raw FROM outgoing_message")
    # Not batch mode: on SQLite it copies the table and drops the old one, and with foreign
    # keys on, dropping it deletes every recipient and body row (ON DELETE CASCADE).
    op.execute("ALTER TABLE outgoing_message DROP COLUMN raw")  # SQLite 3.35+
    op.create_index('ix_outgoing_message_due', 'outgoing_message', ['cycle_id', 'status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_outgoing_message_due', table_name='outgoing_message')
    # Left nullable: making it NOT NULL again would copy the table (see upgrade).
    op.add_column('outgoing_message', sa.Column('raw', sa.LargeBinary(), nullable=True))
    op.execute(
        "UPDATE outgoing_message SET raw = (SELECT raw FROM outgoing_message_body"
        " WHERE outgoing_message_body.message_id = outgoing_message.id)"
    )
    op.drop_table('outgoing_message_body')
    op.drop_index(op.f('ix_outgoing_recipient_message_id'), table_name='outgoing_recipient')
    op.drop_table('outgoing_recipient')
    op.execute("ALTER TABLE outgoing_message DROP COLUMN data_sent_at")
