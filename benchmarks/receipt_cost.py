"""CPU of one web-form submission's receipt, part by part, away from the rest of the post.

    .venv/bin/python -m benchmarks.receipt_cost [--backend postgresql] [--receipts 300] [--smtp]

On a fresh database (``benchmarks.portal_spike.prepare``: 50 generated communes, 34 targets
and 7 task groups each, one revision stored): the CPU of queueing one receipt as the intake
does (``receipt_context``, then ``queue_for_agency``: render, compose, enqueue; its own
transaction each), of a delivery run of the portal's receipt sender (nothing due, then 8
receipts due: the run's fixed cost and its cost per message; outbox folder transport, or with
``--smtp`` a local SMTP server, ``benchmarks.smtp_sink``'s minimal one), and of
the receipt page a post redirects to (``r42 portal``'s CPU per GET, one process). CPU is this
process's (or the portal's) user + system time: steadier than wall time on a shared machine.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from benchmarks.portal_spike import database, prepare, server_cpu, start

NOW = dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC)


def measure(url: str, folder: Path, receipts: int) -> list[str]:
    from tests.servers import free_port

    port = free_port()
    os.environ["R42_MAIL__OUTBOX_DIR"] = str(folder / "outbox")
    agencies = prepare(url, 50, f"http://127.0.0.1:{port}", prior=1)
    from config.settings import get_settings
    from mail.delivery import deliver_configured
    from models.database import get_engine, reset_engines, session_scope
    from models.orm import MessageKind, Request
    from reporting.messages import queue_for_agency
    from reporting.revision_summary import receipt_context

    get_settings.cache_clear()
    reset_engines()
    settings = get_settings()
    with session_scope() as session:
        ids = list(session.scalars(select(Request.id).order_by(Request.id)))
        cycle_id = session.get_one(Request, ids[0]).cycle_id
    rungs = iter(range(10_000, 1_000_000))

    def queue_one(number: int) -> float:
        """One receipt queued as the intake queues it; the CPU from its context to its commit."""
        with session_scope(write=True) as session:
            request = session.get_one(Request, ids[number % len(ids)])
            request.agency.indicators, request.agency.task_groups  # the intake has them loaded
            submission = request.submissions[-1]
            started = time.process_time()
            queue_for_agency(
                MessageKind.RECEIPT, request, receipt_context(submission), rung=next(rungs),
                session=session, settings=settings, now=NOW,
            )  # fmt: skip
        return time.process_time() - started  # committed

    try:  # the receipt sender's runs (its loop and cycles' facts kept), where the code has it
        from mail.runner import DeliveryRunner

        deliver = DeliveryRunner().deliver
    except ImportError:  # an older revision: a run of its own each time
        deliver = deliver_configured

    def run_cpu() -> float:
        started = time.process_time()
        deliver(cycle_id, now=NOW)
        return time.process_time() - started

    for number in range(50):  # warm: templates compiled, statements cached
        queue_one(number)
    run_cpu()
    queued = [queue_one(number) for number in range(receipts)]
    run_cpu()
    empty = [run_cpu() for _ in range(20)]
    eight = []
    for _ in range(15):
        for number in range(8):
            queue_one(number)
        eight.append(run_cpu())
    get_engine(url).dispose()
    lines = [
        f"queue one receipt (context, render, compose, enqueue, commit): "
        f"{statistics.median(queued) * 1000:.2f} ms CPU (median of {receipts})",
        f"receipt sender's delivery run, nothing due: {statistics.median(empty) * 1000:.2f} ms",
        f"receipt sender's delivery run, 8 receipts due: {statistics.median(eight) * 1000:.2f} ms",
    ]
    process = start(url, port, 1, folder)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            pages = [agency["path"] + "/bien-nhan/1" for agency in agencies]
            for page in pages:  # warm, and each answers
                if client.get(page).status_code != 200:
                    raise RuntimeError(f"{page}: {client.get(page).status_code}")
            before = server_cpu(process.pid)
            for _ in range(4):
                for page in pages:
                    client.get(page)
            cpu = server_cpu(process.pid) - before
        lines.append(f"receipt page (portal process): {cpu / (4 * len(pages)) * 1000:.2f} ms per GET")
    finally:
        process.terminate()
        process.wait(30)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--receipts", type=int, default=300)
    parser.add_argument("--smtp", action="store_true", help="the runs send over SMTP")
    args = parser.parse_args(argv)
    servers = contextlib.ExitStack()
    if args.smtp:
        from benchmarks.smtp_sink import SmtpSink

        sink = servers.enter_context(SmtpSink("minimal"))
        os.environ.update(
            R42_MAIL__TRANSPORT="smtp", R42_MAIL__SMTP_HOST="127.0.0.1",
            R42_MAIL__SMTP_PORT=str(sink.port),
        )  # fmt: skip
    load_before = os.getloadavg()[0]
    cluster = None
    with servers, tempfile.TemporaryDirectory(prefix="r42-receipt-") as tmp:
        folder = Path(tmp)
        try:
            if args.backend == "sqlite":
                url = f"sqlite:///{folder / 'r42.sqlite3'}"
            else:
                from tests.servers import PostgresCluster

                cluster = PostgresCluster()
                url = database(cluster.start(), "receipt_cost")
            lines = measure(url, folder, args.receipts)
        finally:
            if cluster is not None:
                cluster.stop()
    print(f"{args.backend}{', SMTP' if args.smtp else ''}, load average (1 min) before {load_before:.1f}, "
          f"after {os.getloadavg()[0]:.1f}")
    for line in lines:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
