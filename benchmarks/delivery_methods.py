"""The ways of delivering the stored messages that ``email_delivery`` compares.

(a) and (b) are plain smtplib over the same stored bytes; ``smtp_transport`` is the sending
layer alone (envelopes in memory); ``full_path`` is what a delivery run does: claim from the
outbox, send, record every outcome (``mail.delivery.deliver_configured``, as the flows call
it), on the database the cycle was opened in.
"""

from __future__ import annotations

import os
import secrets
import smtplib
from collections.abc import Callable, Sequence

from sqlalchemy import update

from benchmarks.national_cycle import NOW
from config.mail_settings import MailSettings
from config.settings import get_settings
from mail.configured import transport_from_settings
from mail.delivery import deliver_configured
from mail.event_loop import run_loop
from mail.transport import Envelope
from models.database import get_engine, session_scope
from models.orm import DeliveryStatus, OutgoingMessage, OutgoingRecipient

Method = Callable[[int, Sequence[Envelope]], int]


def smtplib_new_connection(port: int, envelopes: Sequence[Envelope]) -> int:
    sent = 0
    for envelope in envelopes:
        with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.localhost") as client:
            client.sendmail(envelope.sender, envelope.recipients, envelope.raw)
            sent += 1
    return sent


def smtplib_one_connection(port: int, envelopes: Sequence[Envelope]) -> int:
    sent = 0
    with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.localhost") as client:
        for envelope in envelopes:
            client.sendmail(envelope.sender, envelope.recipients, envelope.raw)
            sent += 1
    return sent


def smtp_transport(connections: int, processes: int = 1) -> Method:
    """What a delivery run uses (``transport_from_settings``), worker start-up included."""

    def deliver(port: int, envelopes: Sequence[Envelope]) -> int:
        settings = MailSettings(
            transport="smtp",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_connections=connections,
            smtp_processes=processes,
            smtp_timeout=60,
        )
        transport = transport_from_settings(settings)

        async def run():
            try:
                return await transport.deliver(envelopes)
            finally:
                await transport.aclose()

        results = run_loop(run())  # the event loop a delivery run uses
        return sum(r.status == DeliveryStatus.SENT for r in results)

    return deliver


class FullPath:
    """Claim, send and record through the outbox at ``database_url``; ``prepare`` (untimed)
    makes exactly the given envelopes' messages pending again."""

    def __init__(self, database_url: str, cycle_id: int, connections: int, processes: int = 1):
        self.database_url, self.cycle_id = database_url, cycle_id
        self.connections, self.processes = connections, processes

    def prepare(self, envelopes: Sequence[Envelope]) -> None:
        keys = [e.key for e in envelopes]
        with session_scope(self.database_url) as session:
            for table in (OutgoingMessage, OutgoingRecipient):
                session.execute(update(table).values(status=DeliveryStatus.SENT))
            session.execute(
                update(OutgoingMessage)
                .where(OutgoingMessage.id.in_(keys))
                .values(
                    status=DeliveryStatus.PENDING,
                    attempts=0,
                    claim_token=None,
                    next_attempt_at=None,
                    data_sent_at=None,
                )
            )
            session.execute(
                update(OutgoingRecipient)
                .where(OutgoingRecipient.message_id.in_(keys))
                .values(status=DeliveryStatus.PENDING)
            )

    def __call__(self, port: int, envelopes: Sequence[Envelope]) -> int:
        environment = dict(
            R42_DATABASE__URL=self.database_url,
            R42_MAIL__TRANSPORT="smtp",
            R42_MAIL__SMTP_HOST="127.0.0.1",
            R42_MAIL__SMTP_PORT=str(port),
            R42_MAIL__SMTP_CONNECTIONS=str(self.connections),
            R42_MAIL__SMTP_PROCESSES=str(self.processes),
            R42_MAIL__SMTP_TIMEOUT="60",
        )
        os.environ.setdefault("R42_WEB_FORM__LINK_SECRET", secrets.token_urlsafe(48))
        if os.environ.get("R42_DATABASE__URL") != self.database_url:
            get_engine.cache_clear()
        # The engine of the warm-up stays, with its compiled statements, as in a worker
        # process that runs one delivery after another: the warm-up is excluded for every
        # method alike.
        os.environ.update(environment)
        get_settings.cache_clear()
        run = deliver_configured(self.cycle_id, now=NOW)
        return sum(r.status == DeliveryStatus.SENT for r in run.results)
