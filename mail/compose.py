"""Build an email, its words already rendered (``documents.templating.render_email``), into the
final bytes that will be sent and stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Protocol

from config.mail_settings import MailSettings
from mail import mime, mime_parts


class EmailContent(Protocol):
    """What a message says: its subject line, plain text and HTML."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str


@dataclass(frozen=True)
class Attachment:
    filename: str  # may be Vietnamese: encoded per RFC 2231
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class ComposedEmail:
    """A message ready to store and send: its envelope facts and its bytes."""

    subject: str
    to: list[str]
    cc: list[str] = field(default_factory=list)
    message_id: str = ""
    raw: bytes = b""


def _mailboxes(recipients: list[Recipient]) -> list[tuple[str, str]]:
    return [(r.name, mime.check_address(r.email)) for r in recipients]


def compose(
    content: EmailContent,
    *,
    to: list[Recipient],
    cc: list[Recipient] | None = None,
    attachments: list[Attachment] | None = None,
    settings: MailSettings,
    now: dt.datetime,
    in_reply_to: list[str] | None = None,
) -> ComposedEmail:
    """``content`` as one MIME message from the programme's sender to ``to`` and ``cc``.

    The message is ``multipart/alternative`` (text, then HTML), inside ``multipart/mixed`` when
    there are attachments; see ``mail.mime`` (headers) and ``mail.mime_parts`` (parts) for how
    each is encoded. ValueError for CR/LF in a name or an address, or an address that is not a
    plain ASCII ``local@domain``.
    ``in_reply_to``: the Message-IDs of the thread answered, the one answered first (RFC 5322
    In-Reply-To and References), so the answer sits under the agency's own message.
    """
    cc = cc or []
    subject = " ".join(content.subject.split())
    headers = [
        mime.address_header("From", [(settings.sender_name, settings.sender_address)]),
        mime.address_header("To", _mailboxes(to)),
    ]
    if cc:
        headers.append(mime.address_header("Cc", _mailboxes(cc)))
    message_id = mime.message_id(settings.message_id_domain)
    headers += [
        mime.unstructured_header("Subject", subject),
        mime.simple_header("Date", format_datetime(now)),
        mime.simple_header("Message-ID", message_id),
    ]
    if in_reply_to:
        headers.append(mime.simple_header("In-Reply-To", in_reply_to[0]))
        thread = [mime.simple_header("References", i)[12:-2] for i in reversed(in_reply_to[:10])]
        headers.append(b"References: " + b"\r\n ".join(thread) + b"\r\n")  # one ID a line
    headers += [
        mime.simple_header("MIME-Version", "1.0"),
        mime.simple_header("Auto-Submitted", "auto-generated"),  # RFC 3834: no auto-replies
    ]
    body = mime_parts.multipart(
        "alternative",
        [
            mime_parts.text_part("plain", content.text),
            mime_parts.text_part("html", content.html),
        ],
    )
    if attachments:
        body = mime_parts.multipart(
            "mixed",
            [body]
            + [mime_parts.attachment_part(a.filename, a.content, a.mime_type) for a in attachments],
        )
    return ComposedEmail(
        subject=subject,
        to=[r.email for r in to],
        cc=[r.email for r in cc],
        message_id=message_id,
        raw=b"".join(headers) + body,
    )
