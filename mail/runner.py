"""Delivery runs one after another in one thread, for a caller that starts one every fraction
of a second: the portal's receipt sender (``portal.receipts``).

Each run is the run every flow uses (``mail.delivery.deliver_pending``); what a run of its own
pays again each time, these runs share instead:

- the event loop, with its executor's threads (the run's bookkeeping goes through them);
- what each cycle's envelopes share (``mail.outbox.Sending``: its programme and registry facts,
  which do not change);
- over SMTP (one sending process), the relay connections: a run's connections are kept for the
  next run instead of a connect, EHLO (STARTTLS, AUTH) and QUIT each run, and closed with QUIT
  once no run has used them for ``idle_seconds`` (``close_idle``) or when the runner closes.
  A kept connection must answer a NOOP before a run sends on it, else a new one is opened:
  a connection the relay dropped meanwhile costs no message an attempt, and loses or doubles
  none. Each run has its own data-sent marks, written before each message's data, and starts
  as a new run would (a refusal of the last run forgotten, one first login at a time).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

from config.mail_settings import MailSettings
from config.settings import get_settings
from mail.configured import transport_from_settings
from mail.data_marks import DataSentMarks
from mail.delivery import DeliveryRun, deliver_pending
from mail.event_loop import new_event_loop
from mail.outbox import Sending
from mail.transport import DeliveryResult, Envelope, SmtpTransport, Transport


class DeliveryRunner:
    """``deliver_configured``'s runs sharing one event loop, the cycles' ``Sending`` and, over
    SMTP, the relay connections (see the module)."""

    def __init__(self, *, idle_seconds: float = 5.0) -> None:
        self.idle_seconds = idle_seconds
        self._loop = new_event_loop()
        # database -> cycle -> what its envelopes share
        self._sendings: dict[str, dict[int, Sending]] = {}
        self._kept: KeptSmtpTransport | None = None

    def deliver(self, cycle_id: int, *, now: dt.datetime) -> DeliveryRun:
        """Send the cycle's due messages with the transport and database the settings name."""
        settings = get_settings()
        url = settings.database.url
        transport: Transport
        if settings.mail.transport == "smtp" and settings.mail.smtp_processes == 1:
            transport = self._smtp(settings.mail, url, now)
        else:
            self.close_idle(0)  # the settings changed: the kept connections are of no use
            transport = transport_from_settings(settings.mail, database_url=url, now=now)
        return deliver_pending(
            cycle_id, transport=transport, settings=settings.mail, now=now,
            loop=self._loop, sendings=self._sendings.setdefault(url, {}),
        )  # fmt: skip

    def _smtp(self, settings: MailSettings, url: str, now: dt.datetime) -> KeptSmtpTransport:
        if self._kept is not None and self._kept.smtp.settings != settings:
            self.close_idle(0)
        if self._kept is None:
            self._kept = KeptSmtpTransport(SmtpTransport(settings))
        self._kept.begin_run(DataSentMarks(url, sent_at=now))
        return self._kept

    def close_idle(self, idle_seconds: float | None = None) -> None:
        """QUIT the kept connections if no run used them for ``idle_seconds`` (default: the
        runner's)."""
        kept = self._kept
        limit = self.idle_seconds if idle_seconds is None else idle_seconds
        if kept is not None and time.monotonic() - kept.last_used >= limit:
            self._kept = None
            self._loop.run_until_complete(kept.smtp.quit_connections())

    @property
    def holds_connections(self) -> bool:
        return self._kept is not None

    def close(self) -> None:
        """QUIT the kept connections, end the loop and its threads (not used again)."""
        try:
            self.close_idle(0)
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
        finally:
            self._loop.close()


class KeptSmtpTransport:
    """An ``SmtpTransport`` whose connections outlive the run: the run's end (``aclose``)
    writes its last marks and keeps the connections."""

    def __init__(self, smtp: SmtpTransport):
        self.smtp = smtp
        self.last_used = time.monotonic()
        self._marks: DataSentMarks | None = None
        self._checked = False

    @property
    def refusal(self) -> str | None:
        return self.smtp.refusal

    def begin_run(self, marks: DataSentMarks) -> None:
        self._marks, self._checked = marks, False

    async def deliver(self, envelopes: Sequence[Envelope]) -> list[DeliveryResult]:
        if not self._checked:  # the run's first batch: its marks, and live connections only
            await self.smtp.reuse(self._marks)
            self._checked = True
        return await self.smtp.deliver(envelopes)

    async def aclose(self) -> None:
        self.last_used = time.monotonic()
        if self._marks is not None:
            marks, self._marks = self._marks, None
            await marks.aclose()
