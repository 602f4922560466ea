"""What a message that arrived says: who sent it, what it answers, its attachments, and
whether it is an automatic message (an auto-reply, a bounce) that must never be answered."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,250}>")  # printable ASCII, no '<' or '>' inside
SPREADSHEET_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
}
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


@dataclass(frozen=True)
class InboundAttachment:
    filename: str  # decoded (RFC 2231 or RFC 2047), as the sender's program named it
    content_type: str
    content: bytes

    @property
    def suffix(self) -> str:
        """'.xlsx', '.xls', '.ods', ... from the name, else from the type ('' if neither)."""
        name = self.filename.lower().strip()
        for suffix in SPREADSHEET_SUFFIXES:
            if name.endswith(suffix):
                return suffix
        return SPREADSHEET_TYPES.get(self.content_type, "")


@dataclass(frozen=True)
class Bounce:
    """A delivery status report: which of our messages, and which addresses failed."""

    original_ids: list[str]
    recipients: list[str]
    diagnostic: str


@dataclass(frozen=True)
class InboundMail:
    message_id: str  # '' when the message carries none (or a malformed one)
    sender: str  # the From: address, lower case (Reply-To is not trusted)
    subject: str
    answers: list[str]  # Message-IDs of In-Reply-To then References, most recent first
    automatic: str = ""  # why it must not be answered ('' for a person's message)
    bounce: Bounce | None = None
    attachments: list[InboundAttachment] = field(default_factory=list)

    @property
    def spreadsheets(self) -> list[InboundAttachment]:
        return [a for a in self.attachments if a.suffix]


def message_ids(value: str | None) -> list[str]:
    """The well-formed Message-IDs in a header, in order."""
    return MESSAGE_ID.findall(str(value or ""))


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot make sense of
        value = message.get_all(name, failobj=[""])
    return " ".join(str(value or "").split())


def automatic_reason(message: Message) -> str:
    """Why this message is automatic (RFC 3834 Auto-Submitted, the null sender of bounces,
    a DSN, list or bulk precedence, the common auto-reply headers); '' for a person's."""
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    return_path = _header(message, "Return-Path")
    if return_path.replace(" ", "") == "<>":
        return "Return-Path: <> (thư báo lỗi chuyển phát)"
    if message.get_content_type() == "multipart/report":
        return "multipart/report (thư báo lỗi chuyển phát)"
    if _header(message, "Precedence").lower() in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {_header(message, 'Precedence')}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if name != "X-Auto-Response-Suppress" and message.get(name):
            return name
    sender = parseaddr(_header(message, "From"))[1].lower()
    if sender.split("@")[0] in {"mailer-daemon", "postmaster"}:
        return f"From: {sender}"
    return ""


def _bounce(message: Message) -> Bounce | None:
    """The failed recipients and our Message-IDs of a DSN (RFC 3464), or of a bounce that
    quotes the original's headers."""
    if message.get_content_type() != "multipart/report" and not _header(
        message, "Return-Path"
    ).replace(" ", "") == "<>":
        return None
    recipients: list[str] = []
    ids: list[str] = []
    diagnostic = ""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload() if part.is_multipart() else []:
                action = str(block.get("Action", "")).lower()
                final = str(block.get("Final-Recipient", "") or block.get("Original-Recipient", ""))
                address = final.split(";", 1)[-1].strip().lower()
                if address and action in {"failed", ""}:
                    recipients.append(address)
                    diagnostic = diagnostic or " ".join(
                        str(block.get("Diagnostic-Code", "")).split()
                    )
        elif kind in {"text/rfc822-headers", "message/rfc822"}:
            if kind == "message/rfc822" and part.is_multipart():
                inner = part.get_payload()[0]
                ids += message_ids(inner.get("Message-ID"))
            else:
                text = part.get_payload(decode=True) or b""
                headers = email.message_from_bytes(text, policy=email.policy.default)
                ids += message_ids(headers.get("Message-ID"))
    if not ids:
        return None
    return Bounce(list(dict.fromkeys(ids)), list(dict.fromkeys(recipients)), diagnostic[:500])


def _attachments(message: Message) -> list[InboundAttachment]:
    """Every attached file, those of a forwarded message (message/rfc822) included."""
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename() or ""
        disposition = part.get_content_disposition()
        if not filename and disposition != "attachment":
            continue
        try:
            content = part.get_payload(decode=True) or b""
        except Exception:  # a payload the decoder refuses: an empty file
            content = b""
        filename = " ".join(str(filename).split())  # folded RFC 2047 words leave blanks
        found.append(InboundAttachment(filename, part.get_content_type(), content))
    return found


def parse(raw: bytes) -> InboundMail:
    """The facts of a raw message (RFC 5322 bytes) the replies need."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    ids = message_ids(_header(message, "Message-ID"))
    senders = getaddresses([_header(message, "From")])  # checked and answered: not Reply-To
    sender = next((a.lower() for _, a in senders if "@" in a), "")
    answers = message_ids(_header(message, "In-Reply-To"))
    answers += reversed(message_ids(_header(message, "References")))
    return InboundMail(
        message_id=ids[0] if ids else "",
        sender=sender,
        subject=_header(message, "Subject")[:500],
        answers=list(dict.fromkeys(answers)),
        automatic=automatic_reason(message),
        bounce=_bounce(message),
        attachments=_attachments(message),
    )
