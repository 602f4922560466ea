"""What the sender of a reply is told, in its thread and once per message: the receipt, or the
errors and what to do (and the words ``r42 inbox`` shows the coordinator)."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy.orm import Session

from config.settings import Settings
from documents.templating import render_email
from mail.allowed_domains import RecipientNotAllowed
from mail.compose import Recipient, compose
from mail.inbound import InboundMail
from mail.queue import enqueue
from models.orm import (
    MessageKind,
    Request,
)
from reporting.messages import (
    Answering,
    InvalidAddress,
    check_address,
    common_context,
    compose_for_agency,
    link_for,
    programme_mail,
)
from reporting.reply_threads import current_cycle, registered

# What the sender is told, and what the coordinator reads in `r42 inbox`.
NO_FORM = "thư không có tệp biểu mẫu Excel (.xlsx) đính kèm."
SEVERAL = "thư có {n} tệp bảng tính đính kèm; mỗi thư chỉ gửi một biểu mẫu."
OLD_FORMAT = "tệp «{name}» không phải định dạng .xlsx (tệp .xls, .ods không đọc được)."
DAMAGED = "tệp «{name}» bị hỏng hoặc không phải biểu mẫu của hệ thống."
UNKNOWN = "không xác định được báo cáo mà thư trả lời (biểu mẫu không có thông tin của hệ thống "
UNKNOWN += "và thư không trả lời thư đề nghị báo cáo)."
UNSIGNED = "địa chỉ gửi {sender} không phải địa chỉ đã đăng ký của {agency}, và biểu mẫu không "
UNSIGNED += "có chữ ký của hệ thống để xác nhận."
INVALID = "biểu mẫu có lỗi, chưa được lưu."
TOO_LARGE = "thư quá lớn ({size}; tối đa {limit}), chưa được đọc."
EVALUATION = "biểu mẫu sơ kết/tổng kết chỉ nhận qua đường dẫn riêng."
ADVICE_FORM = (
    "trả lời thư đề nghị báo cáo, đính kèm đúng một tệp biểu mẫu Excel (.xlsx) đã điền, tải từ "
    "đường dẫn riêng trong thư đề nghị; không đổi định dạng tệp, không sửa phần thông tin ẩn."
)
ADVICE_FIX = "sửa các ô nêu trên trong tệp Excel rồi trả lời thư này, đính kèm tệp đã sửa."
ADVICE_SENDER = (
    "gửi từ địa chỉ thư điện tử đã đăng ký của đơn vị, hoặc dùng biểu mẫu gốc tải từ đường "
    "dẫn riêng của đơn vị (có chữ ký của hệ thống)."
)
ADVICE_LINK = "điền báo cáo tại đường dẫn riêng trong thư đề nghị báo cáo."


def answer_key(message_id: str) -> str:
    """The outbox key of the answer to one inbound message: one answer per Message-ID."""
    return "reply-" + hashlib.sha256(message_id.encode()).hexdigest()[:40]


def answer(
    mail: InboundMail,
    key: str,
    request: Request | None,
    context: dict[str, object],
    *,
    session: Session,
    settings: Settings,
    now: dt.datetime,
) -> str:
    """Queue the 'reply' email to the sender, once per inbound message; '' if it could not be
    (returns why), else its Message-ID."""
    thread = [key, *mail.answers]
    words = {
        "unchanged": False,
        "revision": None,
        "problems": [],
        "advice": "",
        "reason": "",
        "original_subject": mail.subject,
        **context,
    }
    try:
        check_address(mail.sender)
        if request is not None:
            own = registered(mail.sender, request)
            email = compose_for_agency(
                "reply",
                request,
                # the personal link goes only to the agency's own addresses
                {**words, "reply_link": link_for(request, settings)[0] if own else None},
                settings=settings,
                now=now,
                answering=Answering(mail.sender, thread),
            )
            cycle = request.cycle
        else:
            cycle = current_cycle(settings, session=session)
            if cycle is None:
                return "không có kỳ báo cáo đang mở để trả lời"
            email = compose(
                render_email(
                    "reply",
                    **common_context(cycle, settings),
                    **words,
                    agency_name="Quý cơ quan",
                    reply_link=None,
                ),
                to=[Recipient("", mail.sender)],
                settings=programme_mail(cycle, settings),
                now=now,
                in_reply_to=thread,
            )
        queued = enqueue(
            cycle,
            MessageKind.REPLY,
            answer_key(key),
            email,
            session=session,
            agency=request.agency if request else None,
            now=now,
        )
    except (InvalidAddress, RecipientNotAllowed, ValueError) as exc:
        return f"không trả lời được: {exc}"
    return queued.message_id if queued else ""
