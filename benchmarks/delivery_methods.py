"""The ways of delivering the stored messages that ``email_delivery`` compares.

(a) and (b) are plain smtplib over the same stored bytes; ``smtp_transport`` is the sending
layer alone (envelopes in memory); ``full_path`` is what a delivery run does: claim from the
outbox, send, record every outcome (``mail.delivery.deliver_configured``, as the flows call
it), on the database the cycle was opened in. ``deliver_with_each`` runs them one after
another against one discarding server and measures each: rate, CPU per message on both sides,
memory.
"""

from __future__ import annotations

import gc
import os
import resource
import secrets
import smtplib
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import update

from benchmarks.national_cycle import NOW
from benchmarks.smtp_sink import PostfixSink, SmtpSink
from config.mail_settings import MailSettings
from config.settings import get_settings
from mail.configured import transport_from_settings
from mail.delivery import deliver_configured
from mail.event_loop import run_loop
from mail.transport import Envelope
from models.database import reset_engines, session_scope
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
            reset_engines()
        # The engine of the warm-up stays, with its compiled statements, as in a worker
        # process that runs one delivery after another: the warm-up is excluded for every
        # method alike.
        os.environ.update(environment)
        get_settings.cache_clear()
        run = deliver_configured(self.cycle_id, now=NOW)
        return sum(r.status == DeliveryStatus.SENT for r in run.results)


MEMORY_SAMPLE = 200  # messages sent again under tracemalloc for the peak memory


def cpu_seconds() -> float:
    """CPU of this process and of its children already waited for (the sending workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class Row:
    label: str
    seconds: float
    count: int
    client_us: float  # CPU per message: this process and its sending workers
    sink_us: float | None  # CPU per message of the server process
    peak_traced_mb: float | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else float("inf")


def traced_peak_mb(action: Callable[[], object]) -> float:
    """Peak Python memory allocated while ``action`` runs (tracemalloc; a separate, small run)."""
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def deliver_with_each(
    kind: str,
    envelopes: Sequence[Envelope],
    methods: Sequence[tuple[str, Method]],
    measure_memory: bool,
    rtt_ms: float = 0,
) -> list[Row]:
    """Run every method against a fresh sink of ``kind``; check what arrived."""
    expected_octets = sum(len(e.raw) for e in envelopes)
    rows = []
    n = len(envelopes)
    with PostfixSink() if kind == "postfix" else SmtpSink(kind, rtt_ms) as sink:
        smtplib_one_connection(sink.port, envelopes[:20])  # warm the server up
        for _, method in methods:  # and each client (the first one also starts the fork server)
            getattr(method, "prepare", lambda _: None)(envelopes[:4])
            method(sink.port, envelopes[:4])
        time.sleep(0.2)
        for label, method in methods:
            getattr(method, "prepare", lambda _: None)(envelopes)  # untimed: the outbox reset
            messages, octets = sink.messages, sink.octets
            gc.collect()
            cpu, sink_cpu, start = cpu_seconds(), sink.cpu_seconds(), time.perf_counter()
            accepted = method(sink.port, envelopes)
            seconds = time.perf_counter() - start
            cpu = cpu_seconds() - cpu
            time.sleep(0.2)  # let the sink count the last one
            sink_cpu = sink.cpu_seconds() - sink_cpu
            arrived = sink.messages - messages
            note = ""
            if not arrived == accepted == n:
                note = f"{accepted} accepted, {arrived} arrived of {n}"
            elif sink.octets is not None and sink.octets - octets != expected_octets:
                note = f"{sink.octets - octets} octets arrived, {expected_octets} sent"
            peak = None
            if measure_memory:
                sample = envelopes[:MEMORY_SAMPLE]
                getattr(method, "prepare", lambda _: None)(sample)
                peak = traced_peak_mb(lambda m=method, s=sample: m(sink.port, s))
            rows.append(
                Row(label, seconds, accepted, cpu / n * 1e6, sink_cpu / n * 1e6, peak, note)
            )
    return rows
