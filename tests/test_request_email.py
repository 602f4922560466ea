"""The request email says how to answer: the attached Excel form by name, the personal link
(web form or upload), a reply by email, and the exact last day; a reissued link lives from its
own issue day and its email says until when."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

from sqlalchemy import select

from config.settings import get_settings
from models.cycles import cycle_requests, open_cycle
from models.database import session_scope
from models.orm import MessageKind, OutgoingMessage
from portal.access import LinkRefused, open_request
from reporting.coordination import reissue_link
from reporting.messages import link_for
from reporting.requests import queue_requests
from tests.factories import PROGRAMME, at

OPENED = dt.date(2026, 11, 2)


def messages(kind: MessageKind) -> list[email.message.EmailMessage]:
    with session_scope() as session:
        rows = session.scalars(select(OutgoingMessage).where(OutgoingMessage.kind == kind))
        return [email.message_from_bytes(m.raw, policy=email.policy.default) for m in rows]


def open_2026() -> None:
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, OPENED, session=session)
        queue_requests(cycle, session=session, settings=get_settings(), now=at(OPENED, 8))


def test_the_request_names_its_attachment_the_ways_back_and_the_last_day(db, configure):
    configure(R42_INBOX__HOST="imap.vinhlong.example")  # replies are read: the email says so
    open_2026()
    message = messages(MessageKind.REQUEST)[0]
    (attachment,) = list(message.iter_attachments())
    name = attachment.get_filename()
    assert name.startswith("Biểu mẫu báo cáo năm 2026 - ") and name.endswith(".xlsx")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "chậm nhất ngày 04/12/2026" in body and "(Thứ Sáu)" in body
        assert "báo cáo gửi trong ngày 04/12/2026 vẫn được tính là đúng hạn" in body
        assert name in body  # the attachment by its name
        assert "tải tệp lên tại cùng đường dẫn" in body
        assert "trả lời thư này, đính kèm biểu mẫu đã điền" in body
        assert "không trả lời" not in body
        assert "có hiệu lực đến hết ngày 02/03/2027" in body  # 02/11/2026 + 120 days


def test_without_a_mailbox_the_request_says_do_not_reply(db):
    open_2026()
    message = messages(MessageKind.REQUEST)[0]
    for kind in ("plain", "html"):
        body = message.get_body((kind,)).get_content()
        assert "vui lòng không trả lời thư này" in body
        assert "đính kèm biểu mẫu đã điền" not in body


def test_a_reissued_link_lives_from_its_own_issue_day(db):
    open_2026()
    reissued_on = OPENED + dt.timedelta(days=130)  # after the first link's last day
    with session_scope() as session:
        request = cycle_requests(*_cycle(session), session=session)[0]
        first, first_expires = link_for(request, get_settings())
        assert first_expires == dt.date(2027, 3, 2)
        reissue_link(
            request, session=session, settings=get_settings(), actor="test", now=at(reissued_on, 9)
        )
        second, expires = link_for(request, get_settings())
    assert expires == reissued_on + dt.timedelta(days=120) == dt.date(2027, 7, 10)
    (notice,) = messages(MessageKind.LINK)
    text = notice.get_body(("plain",)).get_content()
    assert second in text and "đến hết ngày 10/07/2027" in text
    settings = get_settings().web_form
    with session_scope() as session:
        token = second.rsplit("/", 1)[1]
        assert open_request(token, session=session, settings=settings, now=at(reissued_on, 10))
        try:
            open_request(
                first.rsplit("/", 1)[1], session=session, settings=settings, now=at(OPENED, 10)
            )
        except LinkRefused as refused:
            assert refused.status_code == 410  # the old link is revoked
        else:
            raise AssertionError("the first link still opens")


def _cycle(session):
    from models.cycles import get_cycle

    return (get_cycle(PROGRAMME, 2026, session=session),)
