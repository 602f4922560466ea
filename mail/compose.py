"""Build an email from its templates into the final bytes that will be sent and stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from config.settings import MailSettings
from documents.templating import render


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


def _address(recipient: Recipient) -> Address:
    if "\r" in recipient.email or "\n" in recipient.email:
        raise ValueError(f"invalid address {recipient.email!r}")
    username, _, domain = recipient.email.partition("@")
    return Address(display_name=recipient.name, username=username, domain=domain)


def compose(
    template: str,
    context: dict[str, object],
    *,
    to: list[Recipient],
    cc: list[Recipient] | None = None,
    attachments: list[Attachment] | None = None,
    settings: MailSettings,
    now: dt.datetime,
) -> ComposedEmail:
    """Render ``templates/email/<template>.{subject,txt,html}.j2`` into one MIME message."""
    cc = cc or []
    subject = " ".join(render(f"email/{template}.subject.j2", **context).split())
    message = EmailMessage(policy=SMTP)
    message["From"] = _address(Recipient(settings.sender_name, settings.sender_address))
    message["To"] = [_address(r) for r in to]
    if cc:
        message["Cc"] = [_address(r) for r in cc]
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
