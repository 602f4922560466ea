"""The transport the settings choose: the outbox folder, or SMTP in one or several processes."""

from __future__ import annotations

import datetime as dt

from config.mail_settings import MailSettings
from mail.data_marks import DataSentMarks
from mail.outbox_folder import OutboxFolderTransport
from mail.transport import SmtpTransport, Transport
from mail.workers import MultiProcessSmtpTransport


def transport_from_settings(
    settings: MailSettings, *, database_url: str | None = None, now: dt.datetime | None = None
) -> Transport:
    """The configured transport. Over SMTP, ``database_url`` names the outbox whose
    messages are marked before their data leaves, and settled as sent at ``now`` (the run's
    sending time) when the relay accepts them (``mail.data_marks``)."""
    if database_url is not None and now is None:
        raise ValueError("the outbox's marks need the run's sending time (now)")
    if settings.transport == "smtp" and settings.smtp_processes > 1:
        return MultiProcessSmtpTransport(settings, database_url=database_url, now=now)
    if settings.transport == "smtp":
        marks = None
        if database_url is not None and now is not None:
            marks = DataSentMarks(database_url, sent_at=now)
        return SmtpTransport(settings, before_data=marks)
    return OutboxFolderTransport(settings.outbox_dir)
