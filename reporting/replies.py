"""Replies by email: an agency answers the request with the filled form attached.

Each message waiting in the mailbox is read once: its form goes through the same reader,
validation and intake service as an upload (channel "email"), the sender is answered in its
thread through the outbox (the receipt, or the errors and what to do), and the message is
recorded *before* it is moved out of the folder, so a run that dies between the two only
moves it the next time. Auto-replies and bounces are never answered; a bounce of one of our
messages marks its recipient as failed for ops. What becomes of one person's message is
``reporting.reply_outcome``; this is the mailbox run around it, and the coordinator's list.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.settings import Settings
from documents.xlsx_safety import megabytes
from mail.inbound import parse
from models.database import session_scope
from models.orm import Cycle, InboundMessage, InboundStatus, Request
from reporting.reply_answers import TOO_LARGE
from reporting.reply_forms import Read, largest_message, read_attachment
from reporting.reply_outcome import Outcome, handle
from reporting.reply_threads import inbound_key, mark_bounce


class Mailbox(Protocol):
    """What reading replies needs of the mailbox (``mail.inbox.Inbox``)."""

    uid_validity: int

    def uids(self) -> list[int]: ...

    def size(self, uid: int) -> int: ...

    def fetch(self, uid: int) -> object | None: ...  # has .raw

    def fetch_header(self, uid: int) -> object | None: ...

    def move(self, uid: int, folder: str) -> None: ...


def process_message(
    uid: int,
    raw: bytes,
    uid_validity: int,
    *,
    settings: Settings,
    now: dt.datetime,
    too_large: int = 0,
) -> Outcome:
    """Record (and store, and answer) one fetched message in one transaction (``too_large``:
    only its header was fetched, its size was over the limit)."""
    mail = parse(raw)
    key = inbound_key(mail, uid_validity, uid)
    inbox = settings.inbox
    if mail.automatic:
        read = Read()
    elif too_large:
        size, limit = megabytes(too_large), megabytes(largest_message(settings))
        read = Read(reason=TOO_LARGE.format(size=size, limit=limit))
    else:
        read = read_attachment(mail, settings)
    with session_scope(write=True) as session:
        seen = session.scalar(
            select(InboundMessage).where(
                or_(
                    InboundMessage.message_id == key,
                    (InboundMessage.uid_validity == uid_validity) & (InboundMessage.uid == uid),
                )
            )
        )
        if seen is not None:  # recorded by a run that died before moving it, or another copy
            folder = seen.folder if seen.uid == uid else inbox.processed_folder
            return Outcome(
                uid, key, mail.sender, InboundStatus.IGNORED, "đã đọc trước đó", folder=folder
            )
        row = InboundMessage(
            uid_validity=uid_validity,
            uid=uid,
            message_id=key,
            sender=mail.sender[:320],
            subject=mail.subject,
            received_at=now,
            status=InboundStatus.IGNORED,
            folder=inbox.processed_folder,
        )
        session.add(row)
        if mail.bounce is not None:
            marked = mark_bounce(mail, session=session, now=now)
            reason = f"báo lỗi chuyển phát: {marked or 'không khớp thư nào'}"
            outcome = Outcome(uid, key, mail.sender, InboundStatus.BOUNCE, reason)
        elif mail.automatic:
            reason = f"thư tự động ({mail.automatic}), không trả lời"
            outcome = Outcome(uid, key, mail.sender, InboundStatus.IGNORED, reason)
        else:
            outcome = handle(mail, read, row, session=session, settings=settings, now=now)
        row.status, row.reason = outcome.status, outcome.reason[:2000]
        if outcome.problems:
            row.reason += "\n" + "\n".join(outcome.problems[:50])
        outcome.folder = row.folder = outcome.folder or inbox.processed_folder
    return outcome


def read_replies(mailbox: Mailbox, *, settings: Settings, now: dt.datetime) -> list[Outcome]:
    """Every message waiting in the mailbox, oldest first, each recorded then moved."""
    outcomes = []
    for uid in mailbox.uids()[: settings.inbox.max_messages]:
        size = mailbox.size(uid)
        too_large = size if size > largest_message(settings) else 0
        fetched = mailbox.fetch_header(uid) if too_large else mailbox.fetch(uid)
        if fetched is None:
            continue
        try:
            outcome = process_message(
                uid,
                fetched.raw,  # type: ignore[attr-defined]
                mailbox.uid_validity,
                settings=settings,
                now=now,
                too_large=too_large,
            )
        except IntegrityError:  # another run recorded it at the same moment: it moves it
            continue
        mailbox.move(uid, outcome.folder)
        with session_scope(write=True) as session:
            row = session.scalar(
                select(InboundMessage).where(
                    InboundMessage.uid_validity == mailbox.uid_validity, InboundMessage.uid == uid
                )
            )
            if row is not None and row.moved_at is None:
                row.moved_at = now
        outcomes.append(outcome)
    return outcomes


def inbox_rows(year: int, *, session: Session) -> list[InboundMessage]:
    """The messages of the year's cycle, and those no request could be found for."""
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    return list(
        session.scalars(
            select(InboundMessage)
            .outerjoin(Request, InboundMessage.request_id == Request.id)
            .outerjoin(Cycle, Request.cycle_id == Cycle.id)
            .where(
                or_(
                    Cycle.year == year,
                    InboundMessage.request_id.is_(None)
                    & (InboundMessage.received_at >= start)
                    & (InboundMessage.received_at < start.replace(year=year + 1)),
                )
            )
            .order_by(InboundMessage.received_at, InboundMessage.id)
        )
    )
