"""National-scale email benchmark: build every agency's request email, store it, deliver it.

    .venv/bin/python -m benchmarks.email_delivery [--agencies 4500] [--connections 4,8]

1. Render and compose N synthetic Vietnamese request emails (34 indicators, an XLSX attachment
   with a Vietnamese file name), the old way (``EmailMessage``, kept below as it was) and the
   new way (``mail.compose.compose``), in the same run.
2. Queue the new ones with the real ``models.messages.enqueue`` into a fresh, migrated SQLite.
3. Deliver them to a discarding aiosmtpd server on 127.0.0.1 running in its own process:
   smtplib with a new connection per message (baseline a), smtplib over one connection (b),
   and ``SmtpTransport`` with 4 and 8 pooled connections.

Nothing is sent anywhere but 127.0.0.1. See benchmarks/README.md for figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import io
import os
import resource
import smtplib
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from benchmarks.smtp_sink import SmtpSink
from config.settings import MailSettings
from documents.templating import render
from mail.compose import Attachment, ComposedEmail, Recipient, compose
from mail.transport import Envelope, SmtpTransport
from models.orm import DeliveryStatus

ICT = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2026, 11, 2, 8, tzinfo=ICT)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INDICATORS = 34
KINDS = ["xã", "phường", "thị trấn", "đặc khu"]
TARGETS = {"delivery_vs_a": 4.0, "render_enqueue_seconds": 30.0}
MEMORY_SAMPLE = 200


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


def xlsx_form(agency_name: str) -> bytes:
    """A pre-filled XLSX built with openpyxl, about 10 KB: the stand-in for the real form."""
    import random

    import openpyxl
    from openpyxl.styles import Font

    rng = random.Random(agency_name)
    book = openpyxl.Workbook()
    guide = book.active
    guide.title = "Hướng dẫn"
    for step in range(1, 16):
        guide.append([f"Bước {step}: điền số liệu của {agency_name} vào các ô màu vàng."])
    sheet = book.create_sheet("Chỉ tiêu")
    years = range(2017, 2026)
    sheet.append(["STT", "Chỉ tiêu", "Đơn vị", "Mục tiêu 2030", *years, "Năm 2026"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i in range(1, INDICATORS + 1):
        history = [round(rng.uniform(40, 99), 2) for _ in years]
        sheet.append([i, f"Tỷ lệ hộ được tiếp cận dịch vụ, nhóm {i}", "%", "≥ 95%", *history, None])
    tasks = book.create_sheet("Nhiệm vụ")
    for i in range(1, 8):
        tasks.append([i, f"Nhóm nhiệm vụ, giải pháp về an sinh xã hội số {i}", "", "", ""])
    book.properties.title = f"Biểu mẫu báo cáo năm 2026 - {agency_name}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def compose_all(
    builder: Callable[..., ComposedEmail],
    agencies: Sequence[SyntheticAgency],
    attachment_for: Callable[[SyntheticAgency], bytes],
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
                    attachment_for(agency),
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


def enqueue_all(emails: Sequence[ComposedEmail], agencies: Sequence[SyntheticAgency]) -> float:
    """Seconds to queue every email with the real ``enqueue`` into a fresh migrated SQLite."""
    from config.registry_files import load_programme
    from models.cycles import open_cycle
    from models.database import get_engine, session_scope, upgrade_database
    from models.messages import enqueue
    from models.orm import MessageKind
    from models.registry_store import load_registry

    with tempfile.TemporaryDirectory(prefix="r42-bench-") as folder:
        url = f"sqlite:///{folder}/r42.sqlite3"
        upgrade_database(url)
        with session_scope(url) as session:
            load_registry(load_programme("vinh-long-r42"), session=session)
            open_cycle("vinh-long-r42", 2026, NOW.date(), session=session)
        start = time.perf_counter()
        with session_scope(url) as session:  # one transaction, as queue_requests runs
            cycle, _ = open_cycle("vinh-long-r42", 2026, NOW.date(), session=session)
            for agency, email in zip(agencies, emails, strict=True):
                enqueue(cycle, MessageKind.REQUEST, agency.code, email, session=session, now=NOW)
        seconds = time.perf_counter() - start  # includes the commit
        get_engine(url).dispose()
    return seconds


def real_form_cost() -> tuple[float, int] | None:
    """Mean seconds of the real ``portal.excel_form.build_form`` over the shipped registry."""
    try:
        from config.registry_files import load_programme
        from config.settings import Settings
        from models.cycles import ensure_requests, open_cycle
        from models.database import get_engine, session_scope, upgrade_database
        from models.observations import observations_for
        from models.registry_store import load_registry
        from portal.excel_form import build_form
        from reporting.messages import link_for
    except ImportError:
        return None
    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="r42-bench-") as folder:
        url = f"sqlite:///{folder}/r42.sqlite3"
        upgrade_database(url)
        with session_scope(url) as session:
            load_registry(load_programme("vinh-long-r42"), session=session)
            cycle, _ = open_cycle("vinh-long-r42", 2026, NOW.date(), session=session)
            requests = ensure_requests(cycle, session=session)
            previous = observations_for(cycle.programme, 2025, session=session)
            build_form(requests[0], previous=previous, link="http://127.0.0.1/x")  # warm up
            start = time.perf_counter()
            for request in requests:
                build_form(request, previous=previous, link=link_for(request, settings)[0])
            seconds = (time.perf_counter() - start) / len(requests)
        get_engine(url).dispose()
    return seconds, len(requests)


# Delivery: each function sends every envelope to the sink and returns how many were accepted.


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


def smtp_transport(connections: int) -> Callable[[int, Sequence[Envelope]], int]:
    def deliver(port: int, envelopes: Sequence[Envelope]) -> int:
        settings = MailSettings(
            transport="smtp",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_connections=connections,
            smtp_timeout=60,
        )
        results = asyncio.run(SmtpTransport(settings).deliver(envelopes))
        return sum(r.status == DeliveryStatus.SENT for r in results)

    return deliver


@dataclass
class Row:
    label: str
    seconds: float
    count: int
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
    methods: Sequence[tuple[str, Callable[[int, Sequence[Envelope]], int]]],
    measure_memory: bool,
    rtt_ms: float = 0,
) -> list[Row]:
    """Run every method against a fresh sink of ``kind``; check what arrived."""
    expected_octets = sum(len(e.raw) for e in envelopes)
    rows = []
    with SmtpSink(kind, rtt_ms) as sink:
        smtplib_one_connection(sink.port, envelopes[:20])  # warm the server up
        for label, method in methods:
            messages, octets = sink.messages, sink.octets
            gc.collect()
            start = time.perf_counter()
            accepted = method(sink.port, envelopes)
            seconds = time.perf_counter() - start
            time.sleep(0.05)  # let the sink count the last one
            arrived, arrived_octets = sink.messages - messages, sink.octets - octets
            note = ""
            if not arrived == accepted == len(envelopes):
                note = f"{accepted} accepted, {arrived} arrived of {len(envelopes)}"
            elif arrived_octets != expected_octets:
                note = f"{arrived_octets} octets arrived, {expected_octets} sent"
            peak = None
            if measure_memory:
                sample = envelopes[:MEMORY_SAMPLE]
                peak = traced_peak_mb(lambda m=method, s=sample: m(sink.port, s))
            rows.append(Row(label, seconds, accepted, peak, note))
    return rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.email_delivery", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--agencies", type=int, default=4500, help="messages to build and send")
    parser.add_argument(
        "--old-sample",
        type=int,
        default=None,
        help="compose only this many the old (slow) way and scale per message (default: all)",
    )
    parser.add_argument(
        "--connections", default="4,8", help="SmtpTransport pool sizes to try (comma-separated)"
    )
    parser.add_argument(
        "--servers",
        default="minimal,aiosmtpd",
        help="sinks to deliver to: minimal (measures the client), aiosmtpd (the tests' server)",
    )
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=2.0,
        help="also deliver to the minimal server holding each reply this long (0: skip)",
    )
    parser.add_argument(
        "--rtt-messages",
        type=int,
        default=500,
        help="how many messages to send in that delayed run (it is slow for baseline a)",
    )
    parser.add_argument(
        "--xlsx",
        choices=["shared", "per-agency"],
        default="shared",
        help="one ~10 KB openpyxl XLSX for all (default) or one built per agency, timed",
    )
    parser.add_argument(
        "--skip-real-form", action="store_true", help="do not time portal.excel_form.build_form"
    )
    return parser.parse_args(argv)


def _render_ms(agencies: Sequence[SyntheticAgency]) -> float:
    start = time.perf_counter()
    for number, agency in enumerate(agencies, start=1):
        context = request_context(agency, number)
        for part in ("subject", "txt", "html"):
            render(f"email/request.{part}.j2", **context)
    return (time.perf_counter() - start) / len(agencies) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    n = args.agencies
    pools = [int(c) for c in args.connections.split(",") if c.strip()]
    servers = [k.strip() for k in args.servers.split(",") if k.strip()]
    settings = MailSettings()
    agencies = synthetic_agencies(n)
    started = time.perf_counter()
    print(
        f"Email benchmark: {n:,} agencies x {INDICATORS} indicators, request template; "
        f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}; "
        f"{dt.datetime.now().isoformat(timespec='minutes')}"
    )
    shared = xlsx_form("Ủy ban nhân dân xã Số 1")
    if args.xlsx == "shared":
        print(f"XLSX: one openpyxl workbook of {len(shared):,} bytes built once, attached to all")

        def attachment_for(agency: SyntheticAgency) -> bytes:
            return shared

    else:
        print("XLSX: one openpyxl workbook built per agency, inside the timed compose")

        def attachment_for(agency: SyntheticAgency) -> bytes:
            return xlsx_form(agency.name)

    # 1. Render + compose, the old way then the new way (same agencies, same templates).
    old_n = min(n, args.old_sample) if args.old_sample else n
    compose_all(compose_stdlib, agencies[:20], attachment_for, settings, keep=False)  # warm up
    compose_all(compose, agencies[:20], attachment_for, settings, keep=False)
    old_seconds, _, old_octets = compose_all(
        compose_stdlib, agencies[:old_n], attachment_for, settings, keep=False
    )
    gc.collect()
    new_seconds, emails, new_octets = compose_all(
        compose, agencies, attachment_for, settings, keep=True
    )
    old_ms, new_ms = old_seconds / old_n * 1000, new_seconds / n * 1000
    render_ms = _render_ms(agencies[:200])
    memory = {
        name: traced_peak_mb(
            lambda b=builder: compose_all(b, agencies[:50], attachment_for, settings, keep=False)
        )
        for name, builder in (("old", compose_stdlib), ("new", compose))
    }
    scaled = "" if old_n == n else f" (measured on {old_n:,}, scaled)"
    print()
    print("1. Render + compose one request email per agency, XLSX attached")
    print(f"   {'way':<36}{'total s':>8}{'ms/msg':>8}{'KB/msg':>8}{'peak MB':>9}")
    print(
        f"   {'old: EmailMessage(policy=SMTP)':<36}{old_ms * n / 1000:>8.1f}{old_ms:>8.2f}"
        f"{old_octets / old_n / 1024:>8.1f}{memory['old']:>9.1f}{scaled}"
    )
    print(
        f"   {'new: mail.mime writes the bytes':<36}{new_seconds:>8.1f}{new_ms:>8.2f}"
        f"{new_octets / n / 1024:>8.1f}{memory['new']:>9.1f}"
    )
    build_ratio = (old_ms - render_ms) / max(new_ms - render_ms, 1e-9)
    print(
        f"   new is {old_ms / new_ms:.1f}x faster per message; rendering the 3 templates is "
        f"{render_ms:.2f} ms of each, so building the MIME alone is {build_ratio:.0f}x faster"
    )
    print("   peak MB: tracemalloc peak while composing 50 without keeping them (separate run)")

    # 2. Enqueue into SQLite with the real enqueue().
    enqueue_seconds = enqueue_all(emails, agencies)
    total = new_seconds + enqueue_seconds
    limit = TARGETS["render_enqueue_seconds"]
    print()
    print("2. Queue them: models.messages.enqueue, one SQLite transaction, a fresh migrated file")
    print(f"   enqueue {enqueue_seconds:.1f} s ({enqueue_seconds / n * 1000:.2f} ms/msg)")
    print(
        f"   render + compose + enqueue, new way: {total:.1f} s "
        f"(target < {limit:.0f} s: {'met' if total < limit else 'NOT met'}); "
        f"old way: {old_ms * n / 1000 + enqueue_seconds:.1f} s"
    )
    if not args.skip_real_form:
        form = real_form_cost()
        if form:
            mean, count = form
            print(
                f"   not in the above: the real portal.excel_form.build_form takes "
                f"{mean * 1000:.1f} ms per agency (mean over {count} shipped agencies), "
                f"{mean * n:.0f} s for {n:,}"
            )

    # 3. Delivery of the pre-built bytes, to a discarding server in another process.
    envelopes = [
        Envelope(e.message_id, f"m{i}", settings.sender_address, e.to + e.cc, e.raw)
        for i, e in enumerate(emails)
    ]
    del emails
    gc.collect()
    methods: list[tuple[str, Callable[[int, Sequence[Envelope]], int]]] = [
        ("(a) smtplib, a new connection per message", smtplib_new_connection),
        ("(b) smtplib, one reused connection", smtplib_one_connection),
    ] + [(f"SmtpTransport, {c} pooled connections", smtp_transport(c)) for c in pools]
    runs = [(kind, envelopes, 0.0) for kind in servers]
    if args.rtt_ms and args.rtt_messages:
        runs.append(("minimal", envelopes[: args.rtt_messages], args.rtt_ms))
    failed = False
    for number, (kind, batch, rtt_ms) in enumerate(runs):
        rows = deliver_with_each(kind, batch, methods, measure_memory=number == 0, rtt_ms=rtt_ms)
        baseline = rows[0].rate
        megabytes = sum(len(e.raw) for e in batch) / 2**20
        delay = f", every reply held {rtt_ms:g} ms (simulated network)" if rtt_ms else ""
        print()
        print(
            f"3{'abcdef'[number]}. Deliver {len(batch):,} pre-built messages ({megabytes:.0f} MB) "
            f"to a discarding {kind} server on 127.0.0.1, own process{delay}"
        )
        print(f"   {'method':<42}{'seconds':>8}{'msg/s':>8}{'vs (a)':>8}{'peak MB':>9}")
        for row in rows:
            peak = f"{row.peak_traced_mb:>9.1f}" if row.peak_traced_mb is not None else " " * 9
            print(
                f"   {row.label:<42}{row.seconds:>8.1f}{row.rate:>8.0f}"
                f"{row.rate / baseline:>7.1f}x{peak}  {row.note}".rstrip()
            )
            failed = failed or bool(row.note)
        best = max(rows[2:], key=lambda r: r.rate, default=None)
        if best:
            goal = TARGETS["delivery_vs_a"]
            verdict = "met" if best.rate / baseline >= goal else "NOT met"
            print(f"   best: {best.rate / baseline:.1f}x (a) (target >= {goal:.0f}x: {verdict})")
        if number == 0:
            print(f"   peak MB: tracemalloc peak sending the first {MEMORY_SAMPLE} (separate run)")
    print()
    print(
        f"Process peak RSS {peak_rss_mb():.0f} MB (all {n:,} messages held at once; "
        f"deliver_pending loads 500 at a time). Wall time {time.perf_counter() - started:.0f} s."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
