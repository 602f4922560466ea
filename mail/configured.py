"""The transport the settings choose: the outbox folder, or SMTP in one or several processes."""

from __future__ import annotations

from config.mail_settings import MailSettings
from mail.data_marks import DataSentMarks
from mail.transport import OutboxFolderTransport, SmtpTransport, Transport
from mail.workers import MultiProcessSmtpTransport


def transport_from_settings(
    settings: MailSettings, *, database_url: str | None = None
) -> Transport:
    """The configured transport. Over SMTP, ``database_url`` names the outbox whose
    messages are marked before their data leaves (``mail.data_marks``)."""
    if settings.transport == "smtp" and settings.smtp_processes > 1:
        return MultiProcessSmtpTransport(settings, database_url=database_url)
    if settings.transport == "smtp":
        marks = DataSentMarks(database_url) if database_url is not None else None
        return SmtpTransport(settings, before_data=marks)
    return OutboxFolderTransport(settings.outbox_dir)
