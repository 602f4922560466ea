"""The form attached to an agency's reply, read as an upload is (the same reader, caps and
defences), and the size of the largest message worth fetching whole."""

from __future__ import annotations

from dataclasses import dataclass, field

from config.settings import Settings
from mail.inbound import InboundMail
from reporting.excel_reader import ExcelFormError, ParsedForm, read_form
from reporting.reply_answers import DAMAGED, NO_FORM, OLD_FORMAT, SEVERAL


@dataclass
class Read:
    """A message's form, read before the write transaction (the slow part holds nothing)."""

    parsed: ParsedForm | None = None
    errors: list[str] = field(default_factory=list)
    reason: str = ""  # set when the message cannot carry a form at all


def read_attachment(mail: InboundMail, settings: Settings) -> Read:
    sheets = mail.spreadsheets
    if not sheets:
        return Read(reason=NO_FORM)
    if len(sheets) > 1:
        return Read(reason=SEVERAL.format(n=len(sheets)))
    (sheet,) = sheets
    name = sheet.filename[:100] or "(không tên)"
    if sheet.suffix != ".xlsx":
        return Read(reason=OLD_FORMAT.format(name=name))
    try:
        return Read(parsed=read_form(sheet.content, max_bytes=settings.web_form.max_upload_bytes))
    except ExcelFormError as exc:
        return Read(errors=exc.errors, reason=DAMAGED.format(name=name))


def largest_message(settings: Settings) -> int:
    """The largest message read: the upload limit in base64 (4/3) with room for the text."""
    return settings.web_form.max_upload_bytes * 4 // 3 + 2_000_000

