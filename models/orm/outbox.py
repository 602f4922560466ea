"""Outgoing messages: rendered once, stored with the change that caused them, sent later."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.orm.base import Base, utcnow
from models.orm.cycle import Cycle
from models.orm.programme import Agency


class MessageKind(StrEnum):
    REQUEST = "request"
    REMINDER = "reminder"
    RECEIPT = "receipt"
    RETURNED = "returned"  # a submission sent back by a coordinator, with the reason
    LINK = "link"  # a re-issued personal link after the old one was revoked
    REPORT = "report"
    REPLY = "reply"  # an answer to an agency's email that stored nothing (errors, what to do)
    EXTENSION = "extension"  # the decision on an agency's request for more time


class DeliveryStatus(StrEnum):
    """Where a message, or one recipient of it, stands.

    A message is settled when every recipient is: SENT when all were accepted, FAILED when none
    was, PARTIAL when some were accepted and the others refused for good, UNKNOWN when the
    connection was lost after the data of some recipient's copy was sent.
    """

    PENDING = "pending"  # queued, or a temporary failure waiting for another attempt
    SENDING = "sending"  # claimed by a delivery run; its outcome is being recorded
    SENT = "sent"
    PARTIAL = "partial"  # some recipients accepted, the others refused for good
    FAILED = "failed"  # refused for good (5xx) or out of attempts
    UNKNOWN = "unknown"  # the connection dropped after the data was sent: a person decides


class OutgoingMessage(Base):
    """One email, with its final bytes, under a unique key so it is never queued twice."""

    __tablename__ = "outgoing_message"
    __table_args__ = (
        UniqueConstraint("cycle_id", "kind", "recipient_key", "rung"),
        # What a delivery run claims: a cycle's due messages in queue order (``ORDER BY id
        # LIMIT n``), the first n entries read, none sorted; the due test is in the index too.
        # Also the run's own claims at its end (``mail.deliveries.settle_own_claims``).
        Index("ix_outgoing_message_due", "cycle_id", "status", "id", "next_attempt_at"),
    )

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # Agency code, 'ministry', or another stable name of the recipient within the cycle.
    recipient_key: Mapped[str] = mapped_column(String(64))
    # Reminder rung (days from the deadline), submission revision for receipts, 0 otherwise.
    rung: Mapped[int] = mapped_column(default=0)
    to_addrs: Mapped[list[Any]]
    cc_addrs: Mapped[list[Any]]
    subject: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_reply: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    # Delivery bookkeeping, on the wall clock: who claimed it, when, and when to try again.
    # Not indexed: each claim and outcome would write the index (found through the cycle).
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[dt.datetime | None]
    next_attempt_at: Mapped[dt.datetime | None]
    # Set (and committed) before the data of the current attempt may leave: after a crash,
    # only a claim with this set can have reached the server; the others go back to pending.
    data_sent_at: Mapped[dt.datetime | None]
    # Written (with the reply) as soon as the relay accepts the attempt's every recipient,
    # before the batch is recorded: a run killed in between leaves the message sent.
    accepted_at: Mapped[dt.datetime | None]

    cycle: Mapped[Cycle] = relationship()
    agency: Mapped[Agency | None] = relationship()
    recipients: Mapped[list[OutgoingRecipient]] = relationship(
        back_populates="message",
        cascade="all, delete-orphan",
        order_by="OutgoingRecipient.id",
        passive_deletes=True,
    )
    body: Mapped[OutgoingMessageBody] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    # The final bytes (Message-ID and Date fixed), kept in their own row: see the body.
    raw: AssociationProxy[bytes] = association_proxy(
        "body", "raw", creator=lambda raw: OutgoingMessageBody(raw=raw)
    )


class OutgoingMessageBody(Base):
    """A message's final bytes, written once and read at each attempt.

    Apart from the delivery bookkeeping because SQLite rewrites a whole row on every UPDATE:
    with the ~60 KB message in the row, each claim, mark and outcome wrote it again.
    """

    __tablename__ = "outgoing_message_body"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_message.id", ondelete="CASCADE"), unique=True
    )
    raw: Mapped[bytes] = mapped_column(LargeBinary)


class OutgoingRecipient(Base):
    """One address of a message (To or Cc) and what the server said of it.

    The server accepts or refuses each recipient on its own; a retry goes only to those still
    PENDING, with the same stored bytes and Message-ID.
    """

    __tablename__ = "outgoing_recipient"
    __table_args__ = (UniqueConstraint("message_id", "address"),)

    message_id: Mapped[int] = mapped_column(
        ForeignKey("outgoing_message.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    last_reply: Mapped[str | None] = mapped_column(Text)
    settled_at: Mapped[dt.datetime | None]  # wall clock, when it became sent/failed/unknown

    message: Mapped[OutgoingMessage] = relationship(back_populates="recipients")
