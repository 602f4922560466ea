"""National-scale email benchmark: open a cycle of N agencies for real, then deliver its mail.

    .venv/bin/python -m benchmarks.email_delivery [--agencies 4500] [--servers minimal,postfix]

1. Open the cycle through the real path (``benchmarks.national_cycle``): a generated registry
   of N communes with 34 indicators each; ``queue_requests`` builds each agency's XLSX form,
   renders and composes its request email and stores it in the outbox. Target: < 30 s.
2. Compose a sample of request emails the old way (``EmailMessage``) and the new way
   (``mail.compose``), the real form of the first agency attached, in the same run.
3. Deliver the stored messages to discarding servers on 127.0.0.1, each in its own process:
   smtplib with a new connection per message (baseline a), smtplib over one connection (b),
   ``SmtpTransport`` with pooled connections, in one or several processes. Target: >= 4x (a).

Nothing is sent anywhere but 127.0.0.1. See benchmarks/README.md for figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from collections.abc import Sequence

from benchmarks.compose_compare import (
    compose_all,
    compose_rendered,
    compose_stdlib,
    render_ms,
    synthetic_agencies,
)
from benchmarks.delivery_methods import (
    MEMORY_SAMPLE,
    FullPath,
    Method,
    Row,
    deliver_with_each,
    smtp_transport,
    smtplib_new_connection,
    smtplib_one_connection,
    traced_peak_mb,
)
from benchmarks.national_cycle import open_national_cycle
from benchmarks.smtp_sink import postfix_available
from config.mail_settings import MailSettings
from config.settings import Settings
from mail.transport import Envelope

# The full path (claim, send, record) against (a) and against (b), on smtp-sink.
TARGETS = {"delivery_vs_a": 4.0, "full_path_vs_b": 1.5, "render_enqueue_seconds": 30.0}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def ceiling(rows: Sequence[Row], best: Row, goal: float) -> str:
    """What the server can take at all: one process, so one core at its CPU per message; no
    client can send faster. The goal, the fastest method and the full path as shares of it."""
    server_us = [r.sink_us for r in rows if r.sink_us]
    if not server_us:
        return "   (the server's CPU was not measured)"
    cap = 1e6 / min(server_us)
    fastest = max(rows, key=lambda r: r.rate)
    return (
        f"   the server's ceiling: one core at {min(server_us):.0f} us a message = {cap:,.0f} "
        f"msg/s; {goal:g}x (a) = {goal * rows[0].rate:,.0f} msg/s is {goal * rows[0].rate / cap:.0%} "
        f"of it; {fastest.label}: {fastest.rate / cap:.0%}, {best.label}: {best.rate / cap:.0%}"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.email_delivery", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--agencies", type=int, default=4500, help="agencies in the cycle")
    parser.add_argument(
        "--compose-sample", type=int, default=500, help="emails composed both ways in step 2"
    )
    parser.add_argument(
        "--transports",
        default="1x4,1x8,2x4",
        help="SmtpTransport set-ups to try, PROCESSESxCONNECTIONS (comma-separated)",
    )
    parser.add_argument(
        "--full-path",
        default="1x4,1x8",
        help="full-path set-ups (claim, send, record from the outbox), PROCESSESxCONNECTIONS",
    )
    parser.add_argument(
        "--servers",
        default="minimal,postfix,aiosmtpd",
        help="sinks: minimal (asyncio, cheap), postfix (smtp-sink, C), aiosmtpd (the tests')",
    )
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=2.0,
        help="also deliver to the minimal sink holding each reply this long (0: skip)",
    )
    parser.add_argument(
        "--rtt-messages", type=int, default=500, help="messages sent in that delayed run"
    )
    return parser.parse_args(argv)


def step_open_cycle(n: int, url: str) -> tuple[list[Envelope], bytes, int]:
    cycle = open_national_cycle(url, n, settings=Settings())
    limit = TARGETS["render_enqueue_seconds"]
    verdict = "met" if cycle.seconds < limit else "NOT met"
    print()
    print("1. Open the cycle: open_cycle + reporting.requests.queue_requests, one transaction")
    print(
        f"   {cycle.agencies:,} agencies x {cycle.indicators} indicators: {cycle.queued:,} "
        f"requests queued, each with its own XLSX form, in {cycle.seconds:.1f} s "
        f"({cycle.seconds / cycle.agencies * 1000:.2f} ms each; target < {limit:.0f} s: {verdict})"
    )
    print(
        f"   CPU time of the step: {cycle.cpu_seconds:.1f} s (the rest of the wall time: waiting)"
    )
    print(
        f"   of which build_form {cycle.form_ms:.2f} ms per agency (mean over 200, timed apart); "
        f"form {cycle.form_bytes:,} bytes, message {cycle.octets / cycle.queued / 1024:.1f} KB"
    )
    return cycle.envelopes, cycle.sample_form, cycle.cycle_id


def step_compose(sample: int, form: bytes) -> None:
    settings = MailSettings()
    agencies = synthetic_agencies(sample)
    for builder in (compose_stdlib, compose_rendered):  # warm up
        compose_all(builder, agencies[:20], form, settings, keep=False)
    old, _, old_octets = compose_all(compose_stdlib, agencies, form, settings, keep=False)
    new, _, new_octets = compose_all(compose_rendered, agencies, form, settings, keep=False)
    templates = render_ms(agencies[:200])
    memory = {
        name: traced_peak_mb(lambda b=b: compose_all(b, agencies[:50], form, settings, False))
        for name, b in (("old", compose_stdlib), ("new", compose_rendered))
    }
    old_ms, new_ms = old / sample * 1000, new / sample * 1000
    print()
    print(f"2. Compose {sample:,} request emails both ways, the first agency's real form attached")
    print(f"   {'way':<36}{'ms/msg':>8}{'KB/msg':>8}{'peak MB':>9}")
    for label, ms, octets, peak in (
        ("old: EmailMessage(policy=SMTP)", old_ms, old_octets, memory["old"]),
        ("new: mail.mime writes the bytes", new_ms, new_octets, memory["new"]),
    ):
        print(f"   {label:<36}{ms:>8.2f}{octets / sample / 1024:>8.1f}{peak:>9.1f}")
    mime_ratio = (old_ms - templates) / max(new_ms - templates, 1e-9)
    print(
        f"   new is {old_ms / new_ms:.1f}x faster; rendering the 3 templates is {templates:.2f} "
        f"ms of each, so building the MIME alone is {mime_ratio:.0f}x faster"
    )


def step_deliver(
    envelopes: list[Envelope], args: argparse.Namespace, url: str, cycle_id: int
) -> bool:
    methods: list[tuple[str, Method]] = [
        ("(a) smtplib, a new connection per message", smtplib_new_connection),
        ("(b) smtplib, one reused connection", smtplib_one_connection),
    ]
    for setup in args.transports.split(","):
        processes, connections = (int(x) for x in setup.strip().split("x"))
        label = f"SmtpTransport, {processes} proc. x {connections} conn."
        methods.append((label, smtp_transport(connections, processes)))
    for setup in args.full_path.split(","):
        processes, connections = (int(x) for x in setup.strip().split("x"))
        label = f"full path, {processes} proc. x {connections} conn."
        methods.append((label, FullPath(url, cycle_id, connections, processes)))
    servers = [k.strip() for k in args.servers.split(",") if k.strip()]
    if "postfix" in servers and not postfix_available():
        print("\n   (postfix's smtp-sink is not installed: skipped; `make test-system-packages`)")
        servers.remove("postfix")
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
            f"3{'abcdef'[number]}. Deliver {len(batch):,} stored messages ({megabytes:.0f} MB) "
            f"to a discarding {kind} server on 127.0.0.1, own process{delay}"
        )
        print(
            f"   {'method':<44}{'seconds':>8}{'msg/s':>7}{'vs (a)':>7}"
            f"{'client us':>10}{'server us':>10}{'peak MB':>8}"
        )
        for row in rows:
            peak = f"{row.peak_traced_mb:>8.1f}" if row.peak_traced_mb is not None else " " * 8
            sink = f"{row.sink_us:>10.0f}" if row.sink_us is not None else " " * 10
            print(
                f"   {row.label:<44}{row.seconds:>8.2f}{row.rate:>7.0f}{row.rate / baseline:>6.1f}x"
                f"{row.client_us:>10.0f}{sink}{peak}  {row.note}".rstrip()
            )
            failed = failed or bool(row.note)
        full = [r for r in rows if r.label.startswith("full path")]
        best = max(full or rows[2:], key=lambda r: r.rate, default=None)
        if best:
            reused = rows[1].rate
            for what, ratio, goal in (
                ("(a)", best.rate / baseline, TARGETS["delivery_vs_a"]),
                ("(b)", best.rate / reused, TARGETS["full_path_vs_b"]),
            ):
                verdict = "met" if ratio >= goal else "NOT met"
                print(f"   {best.label}: {ratio:.2f}x {what} (target >= {goal:g}x: {verdict})")
            print(ceiling(rows, best, TARGETS["delivery_vs_a"]))
        if number == 0:
            print(
                "   client/server us: CPU microseconds per message; peak MB: tracemalloc peak "
                f"sending the first {MEMORY_SAMPLE} (separate run)"
            )
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    print(
        f"Email benchmark: {args.agencies:,} agencies; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}; Python {sys.version.split()[0]}; "
        f"{dt.datetime.now().isoformat(timespec='minutes')}"
    )
    with tempfile.TemporaryDirectory(prefix="r42-bench-") as folder:
        url = f"sqlite:///{folder}/r42.sqlite3"
        envelopes, form, cycle_id = step_open_cycle(args.agencies, url)
        step_compose(args.compose_sample, form)
        failed = step_deliver(envelopes, args, url, cycle_id)
    print()
    print(
        f"Process peak RSS {peak_rss_mb():.0f} MB (all {len(envelopes):,} messages held at once; "
        f"deliver_pending loads {MailSettings().claim_batch} at a time). "
        f"Wall time {time.perf_counter() - started:.0f} s; load average at the end "
        f"{os.getloadavg()[0]:.1f}."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
