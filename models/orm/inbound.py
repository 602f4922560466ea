"""Messages read from the replies mailbox: each one once, whatever happens to the run."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.orm.base import Base, utcnow
from models.orm.cycle import Request
from models.orm.submission import Submission


class InboundStatus(StrEnum):
    STORED = "stored"  # a form read and stored as a revision (or identical to the latest)
    INVALID = "invalid"  # the form's cells were refused: the agency got the list of errors
    REJECTED = "rejected"  # no form, several, unknown request, .xls/.ods, damaged file
    IGNORED = "ignored"  # an auto-reply, or a copy of a message already read
    BOUNCE = "bounce"  # a delivery report about one of our messages


class InboundMessage(Base):
    """One message of the mailbox, recorded (with what was done) before it is moved out of
    the folder it arrived in: a run that dies before the move only moves it the next time."""

    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("uid_validity", "uid"),)

    # The mailbox's UIDVALIDITY and the message's UID there: the same folder's same message.
    uid_validity: Mapped[int] = mapped_column(BigInteger)  # up to 2**32 - 1
    uid: Mapped[int] = mapped_column(BigInteger)
    # The Message-ID it came with (one is made from the UID when it has none): another copy
    # of the same message is never read twice.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    sender: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")  # for the coordinator (Vietnamese)
    # The sender is not one of the agency's registered addresses (accepted on the form's token).
    sender_mismatch: Mapped[bool] = mapped_column(default=False)
    folder: Mapped[str] = mapped_column(String(255))  # where it goes: processed or rejected
    moved_at: Mapped[dt.datetime | None]
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("request.id", ondelete="SET NULL"), index=True
    )
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission.id", ondelete="SET NULL")
    )
    answer_message_id: Mapped[str | None] = mapped_column(String(255))  # our answer's

    request: Mapped[Request | None] = relationship()
    submission: Mapped[Submission | None] = relationship()
