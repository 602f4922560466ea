"""a cycle's due messages found in queue order; no index on the claim token

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

A delivery run claims ``cycle_id = ? AND status = 'pending' AND (next_attempt_at IS NULL OR
next_attempt_at <= ?) ORDER BY id LIMIT n`` about every 128 messages. On (cycle_id, status,
next_attempt_at) each claim read and sorted every pending row of the cycle (SQLite: "USE TEMP
B-TREE FOR ORDER BY", 0.6 ms at 4,500 pending); on (cycle_id, status, id, next_attempt_at) it
reads the first n entries in order, and the index still covers the due test. The claim token's
own index is dropped: every claim wrote 128 entries into it and every outcome took them out
again, for one query at the end of a run, which now finds the run's claims through the cycle
(``mail.deliveries.settle_own_claims``).
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_outgoing_message_claim_token', table_name='outgoing_message')
    op.drop_index('ix_outgoing_message_due', table_name='outgoing_message')
    op.create_index(
        'ix_outgoing_message_due',
        'outgoing_message',
        ['cycle_id', 'status', 'id', 'next_attempt_at'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_outgoing_message_due', table_name='outgoing_message')
    op.create_index(
        'ix_outgoing_message_due',
        'outgoing_message',
        ['cycle_id', 'status', 'next_attempt_at'],
        unique=False,
    )
    op.create_index(
        'ix_outgoing_message_claim_token', 'outgoing_message', ['claim_token'], unique=False
    )
