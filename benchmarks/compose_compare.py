"""Composing request emails the old way (EmailMessage) and the new way (mail.compose), compared.

Synthetic agencies and the context ``reporting.requests`` gives the request template (34
indicators, 7 task groups); ``compose_stdlib`` is ``mail.compose.compose`` as it was before it
wrote the MIME bytes itself, kept here to measure against.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from config.mail_settings import MailSettings
from documents.templating import render, render_email
from documents.vietnamese import WEEKDAYS
from mail.compose import Attachment, ComposedEmail, Recipient, compose

ICT = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2026, 11, 2, 8, tzinfo=ICT)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INDICATORS = 34
KINDS = ["xã", "phường", "thị trấn", "đặc khu"]


@dataclass(frozen=True)
class SyntheticAgency:
    code: str
    name: str
    email: str


def synthetic_agencies(count: int) -> list[SyntheticAgency]:
    """'Ủy ban nhân dân xã Số 123' <vanthu@xa123.tinh05.example>, spread over 34 provinces."""
    agencies = []
    for number in range(1, count + 1):
        kind = KINDS[number % len(KINDS)]
        slug = {"xã": "xa", "phường": "phuong", "thị trấn": "thitran", "đặc khu": "dackhu"}[kind]
        province = number % 34 + 1
        agencies.append(
            SyntheticAgency(
                code=f"{slug}-{number}",
                name=f"Ủy ban nhân dân {kind} Số {number}",
                email=f"vanthu@{slug}{number}.tinh{province:02d}.example",
            )
        )
    return agencies


def request_context(agency: SyntheticAgency, number: int) -> dict[str, object]:
    """What reporting.requests gives the request template, with 34 indicators and 7 groups."""
    return {
        "year": 2026,
        "deadline": dt.date(2026, 12, 4),
        "deadline_weekday": WEEKDAYS[dt.date(2026, 12, 4).weekday()],
        "programme_name": "Chương trình hành động thực hiện Nghị quyết số 42-NQ/TW",
        "short_name": "Chương trình hành động",
        "decision": "Quyết định số 1234/QĐ-UBND",
        "target_year": 2030,
        "standing_agency": "Sở Nội vụ",
        "ministry": "Bộ Nội vụ",
        "province": f"Tỉnh Số {number % 34 + 1:02d}",
        "sender_name": MailSettings().sender_name,
        "agency_name": agency.name,
        "head_title": "Chủ tịch",
        "link": f"http://127.0.0.1:8042/bao-cao/{number:06d}.{'x' * 43}",
        "link_expires": dt.date(2027, 3, 1),
        "attachment_name": f"Biểu mẫu báo cáo năm 2026 - {agency.name}.xlsx",
        "indicators": [
            {
                "number": i,
                "name": f"Tỷ lệ hộ gia đình được tiếp cận dịch vụ xã hội cơ bản, nhóm {i}",
                "unit": "%",
                "target": "Đạt tối thiểu 95%",
                "last_value": f"{(number * i) % 1000 / 10:.1f}%".replace(".", ","),
            }
            for i in range(1, INDICATORS + 1)
        ],
        "task_groups": [
            {"number": i, "name": f"Nhóm nhiệm vụ, giải pháp về an sinh xã hội số {i}"}
            for i in range(1, 8)
        ],
    }


def compose_stdlib(
    template: str,
    context: dict[str, object],
    *,
    to: list[Recipient],
    cc: list[Recipient] | None = None,
    attachments: list[Attachment] | None = None,
    settings: MailSettings,
    now: dt.datetime,
) -> ComposedEmail:
    """mail.compose.compose as it was before it wrote MIME itself (EmailMessage, SMTP policy)."""

    def address(recipient: Recipient) -> Address:
        if "\r" in recipient.email or "\n" in recipient.email:
            raise ValueError(f"invalid address {recipient.email!r}")
        username, _, domain = recipient.email.partition("@")
        return Address(display_name=recipient.name, username=username, domain=domain)

    cc = cc or []
    subject = " ".join(render(f"email/{template}.subject.j2", **context).split())
    message = EmailMessage(policy=SMTP)
    message["From"] = address(Recipient(settings.sender_name, settings.sender_address))
    message["To"] = [address(r) for r in to]
    if cc:
        message["Cc"] = [address(r) for r in cc]
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message_id = make_msgid(domain=settings.message_id_domain)
    message["Message-ID"] = message_id
    message.set_content(render(f"email/{template}.txt.j2", **context))
    message.add_alternative(render(f"email/{template}.html.j2", **context), subtype="html")
    for attachment in attachments or []:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return ComposedEmail(
        subject=subject,
        to=[r.email for r in to],
        cc=[r.email for r in cc],
        message_id=message_id,
        raw=message.as_bytes(),
    )


def compose_rendered(template: str, context: dict[str, object], **arguments) -> ComposedEmail:
    """The project's way: render the templates (``render_email``), then ``mail.compose``."""
    return compose(render_email(template, **context), **arguments)


def compose_all(
    builder: Callable[..., ComposedEmail],
    agencies: Sequence[SyntheticAgency],
    attachment: bytes,
    settings: MailSettings,
    keep: bool,
) -> tuple[float, list[ComposedEmail], int]:
    """Seconds to render and compose one request per agency; the emails if ``keep``."""
    kept: list[ComposedEmail] = []
    octets = 0
    start = time.perf_counter()
    for number, agency in enumerate(agencies, start=1):
        email = builder(
            "request",
            request_context(agency, number),
            to=[Recipient(agency.name, agency.email)],
            attachments=[
                Attachment(
                    f"Biểu mẫu báo cáo năm 2026 - {agency.name}.xlsx",
                    attachment,
                    XLSX_TYPE,
                )
            ],
            settings=settings,
            now=NOW,
        )
        octets += len(email.raw)
        if keep:
            kept.append(email)
    return time.perf_counter() - start, kept, octets


def render_ms(agencies: Sequence[SyntheticAgency]) -> float:
    start = time.perf_counter()
    for number, agency in enumerate(agencies, start=1):
        context = request_context(agency, number)
        for part in ("subject", "txt", "html"):
            render(f"email/request.{part}.j2", **context)
    return (time.perf_counter() - start) / len(agencies) * 1000
