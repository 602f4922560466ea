"""Delivery against a real SMTP server with injected faults: one copy each, or listed unknown."""

from __future__ import annotations

import asyncio
import datetime as dt
import glob
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from config.settings import get_settings
from mail.deliveries import release
from mail.delivery import deliver_configured
from mail.queue import delivery_counts, undelivered
from models.cycles import ensure_requests, open_cycle
from models.database import session_scope
from reporting.requests import queue_requests
from tests.factories import PROGRAMME, at
from tests.servers import SmtpServer, free_port

NOW = at(dt.date(2026, 11, 2), 8)


@pytest.fixture
def queued(db, configure):
    """The 2026 requests queued (not sent); returns the cycle id and the agency addresses."""
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        ensure_requests(cycle, session=session)
        queue_requests(cycle, session=session, settings=get_settings(), now=NOW)
        return cycle.id, sorted(r.agency.email for r in cycle.requests)


def use_smtp(configure, port: int, **extra) -> None:
    settings = {
        "transport": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_timeout": 3,
        "retry_base_seconds": 0.05,
        "retry_wait_seconds": 0.5,
        "max_attempts": 20,
        "claim_batch": 4,
        **extra,
    }
    configure(**{f"R42_MAIL__{key.upper()}": value for key, value in settings.items()})


def deliver(cycle_id: int):
    """One delivery run as the flows start it (the configured transport and outbox)."""
    return deliver_configured(cycle_id, now=NOW)


def counts(cycle_id: int) -> dict[str, int]:
    with session_scope() as session:
        return delivery_counts(cycle_id, session=session)


def copies(server: SmtpServer) -> Counter:
    return Counter(r.recipients[0] for r in server.received)


def test_a_server_down_for_a_whole_run_gets_everything_once_when_back(queued, configure):
    cycle_id, emails = queued
    port = free_port()
    use_smtp(configure, port)
    deliver(cycle_id)
    assert counts(cycle_id) == {"pending": len(emails)}
    with SmtpServer(port=port) as server:
        deliver(cycle_id)
        deliver(cycle_id)  # a further run sends nothing again
    assert counts(cycle_id) == {"sent": len(emails)}
    assert copies(server) == Counter(emails)


def test_421_at_greeting_is_retried(queued, configure):
    cycle_id, emails = queued
    port = free_port()
    use_smtp(configure, port)

    async def busy(reader, writer):
        writer.write(b"421 4.3.2 Service busy, try later\r\n")
        await writer.drain()
        writer.close()

    loop = asyncio.new_event_loop()
    greeting = loop.run_until_complete(asyncio.start_server(busy, "127.0.0.1", port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    deliver(cycle_id)
    loop.call_soon_threadsafe(greeting.close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    with session_scope() as session:
        from models.orm import OutgoingMessage

        replies = {m.last_reply for m in session.query(OutgoingMessage)}
    assert any("421" in r for r in replies) and counts(cycle_id) == {"pending": len(emails)}
    with SmtpServer(port=port) as server:
        deliver(cycle_id)
    assert copies(server) == Counter(emails)


def test_per_recipient_refusals(queued, configure):
    cycle_id, emails = queued
    with SmtpServer() as server:
        use_smtp(configure, server.port, retry_wait_seconds=0)
        server.handler.refuse_recipients = {
            emails[0]: "550 5.1.1 No such mailbox",
            emails[1]: "450 4.2.1 Mailbox busy",
        }
        deliver(cycle_id)
        assert counts(cycle_id) == {"sent": len(emails) - 2, "failed": 1, "pending": 1}
        server.handler.refuse_recipients = {}
        configure(R42_MAIL__RETRY_WAIT_SECONDS=2)
        deliver(cycle_id)
    assert counts(cycle_id) == {"sent": len(emails) - 1, "failed": 1}
    assert copies(server) == Counter(emails[1:])
    with session_scope() as session:
        (failed,) = undelivered(cycle_id, session=session)
        assert failed.to_addrs == [emails[0]] and "550" in failed.last_reply


@pytest.mark.parametrize("processes", [1, 2], ids=["one-process", "two-processes"])
def test_a_disconnect_after_k_messages_leaves_one_unknown_and_no_duplicate(
    queued, configure, processes
):
    cycle_id, emails = queued
    with SmtpServer() as server:
        use_smtp(configure, server.port, smtp_connections=1, smtp_processes=processes)
        server.handler.drop_after = 3  # accepts the 4th message, then drops the connection
        deliver(cycle_id)
        server.handler.drop_after = None
        deliver(cycle_id)
    assert counts(cycle_id) == {"sent": len(emails) - 1, "unknown": 1}
    assert copies(server) == Counter(emails)  # the unknown one did arrive: not resent
    with session_scope() as session:
        (unknown,) = undelivered(cycle_id, session=session)
        assert "after data" in unknown.last_reply
        release(unknown, session=session)  # a person decides to send it again
    with SmtpServer() as again:
        use_smtp(configure, again.port)
        deliver(cycle_id)
    assert copies(again) == Counter([unknown.to_addrs[0]])


def test_a_server_slower_than_the_timeout_is_unknown_not_resent(queued, configure):
    cycle_id, emails = queued
    with SmtpServer() as server:
        use_smtp(configure, server.port, smtp_timeout=1, smtp_connections=2)
        server.handler.data_delay = 2.0
        server.handler.slow_only = {emails[0]}
        deliver(cycle_id)
    assert counts(cycle_id) == {"sent": len(emails) - 1, "unknown": 1}


KILLABLE = """
import sys
from mail.delivery import deliver_configured
from tests.factories import at
import datetime as dt
deliver_configured(int(sys.argv[1]), now=at(dt.date(2026, 11, 2), 8))
"""


def orphaned_workers() -> list[int]:
    """Sending workers (and their fork server) whose delivery process is gone."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as file:
                parent = int(file.read().rsplit(")", 1)[1].split()[1])
            with open(stat.replace("stat", "cmdline"), "rb") as file:
                command = file.read()
        except (OSError, IndexError, ValueError):
            continue
        if b"mail.workers" in command and b"forkserver" in command and parent == 1:
            found.append(int(stat.split("/")[2]))
    return found


@pytest.mark.parametrize("processes", [1, 2], ids=["one-process", "two-processes"])
def test_a_sending_process_killed_midway_then_rerun(queued, configure, processes):
    cycle_id, emails = queued
    with SmtpServer() as server:
        use_smtp(
            configure,
            server.port,
            smtp_connections=1,
            smtp_processes=processes,
            claim_lease_seconds=1,
        )
        server.handler.data_delay = 0.2  # slow enough to be killed in the middle
        env = {**os.environ, **{k: v for k, v in os.environ.items() if k.startswith("R42_")}}
        child = subprocess.Popen([sys.executable, "-c", KILLABLE, str(cycle_id)], env=env)
        # Mid-batch: one process sends a batch (4) one by one, two send it two by two.
        while len(server.received) < (3 if processes == 1 else 1):
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait()
        arrived = copies(server)
        time.sleep(1.2)  # the claim lease runs out
        server.handler.data_delay = 0
        deliver(cycle_id)
    final = counts(cycle_id)
    with session_scope() as session:
        unknown = {m.to_addrs[0] for m in undelivered(cycle_id, session=session)}
    deadline = time.monotonic() + 5
    while orphaned_workers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert orphaned_workers() == []  # the killed run's sending workers left too
    # Unknown: only what was in flight (one per connection), and what the relay had just
    # accepted when the journal of acceptances had not been written yet.
    assert final.get("unknown", 0) == len(unknown) <= 2 * processes
    assert final["sent"] + len(unknown) == len(emails)
    got = copies(server)
    assert all(got[e] == 1 for e in emails if e not in unknown)  # never twice
    assert all(got[e] <= 1 for e in unknown) and set(arrived) <= set(got)


def test_failed_and_unknown_deliveries_are_listed_in_the_report_and_released_by_ops(
    queued, configure, capsys
):
    from cli import main as cli
    from reporting.consolidation import consolidate

    cycle_id, emails = queued
    with SmtpServer() as server:
        use_smtp(configure, server.port, retry_wait_seconds=0)
        server.handler.refuse_recipients = {emails[0]: "550 5.1.1 No such mailbox"}
        deliver(cycle_id)
        with session_scope() as session:
            from models.cycles import get_cycle

            data = consolidate(
                get_cycle(PROGRAMME, 2026, session=session), session=session, as_of=NOW
            )
        (row,) = data.undelivered
        assert (row.kind, row.status) == ("request", "failed")  # codes; words when rendered
        assert row.status_text == "Không gửi được" and "550" in row.reply
        assert row.kind_text == "Thư đề nghị báo cáo"

        assert cli.main(["deliveries", "--year", "2026"]) == 0
        listing = capsys.readouterr().out
        assert emails[0] in listing and "1 failed, unknown or partial" in listing
        message_id = listing.split()[0]
        server.handler.refuse_recipients = {}
        assert cli.main(["release", "--year", "2026", message_id, "--by", "Trần Văn C"]) == 1
        assert "Confirm with --yes" in capsys.readouterr().out  # no terminal: nothing released
        assert cli.main(["release", "--year", "2026", message_id, "--yes", "--by", "Trần C"]) == 0
    assert counts(cycle_id) == {"sent": len(emails)}
    assert copies(server) == Counter(emails)


def test_an_agency_with_an_unusable_address_is_reported_not_skipped(db, configure):
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        for request in ensure_requests(cycle, session=session):
            if request.agency.code == "so-y-te":
                request.agency.email = "van thu@soyte..example"  # a typo an import could leave
        rows = queue_requests(cycle, session=session, settings=get_settings(), now=NOW)
    (bad,) = [row for row in rows if row.problem]
    assert bad.agency == "so-y-te" and not bad.queued and "invalid address" in bad.problem
    assert sum(row.queued for row in rows) == len(rows) - 1


def test_kill_9_leaves_unknown_only_what_was_in_flight(queued, configure, capsys):
    """All 23 messages claimed in one batch, two connections sending, the process killed
    with kill -9: what the relay had accepted is sent, "unknown" is only what was in flight
    (one per connection); every other message goes back to pending by itself when the lease
    ends, and the next run sends it once."""
    from cli import main as cli

    cycle_id, emails = queued
    with SmtpServer() as server:
        use_smtp(configure, server.port, smtp_connections=2, claim_batch=64, claim_lease_seconds=2)
        server.handler.data_delay = 0.3
        child = subprocess.Popen([sys.executable, "-c", KILLABLE, str(cycle_id)], env=os.environ)
        while len(server.received) < 4:
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert cli.main(["deliveries", "--year", "2026"]) == 0
        listing = capsys.readouterr().out
        assert re.search(r"sending for \d+ s", listing)  # stuck, and for how long, until the lease ends
        time.sleep(2.2)  # the lease ends; whatever the server was receiving has arrived
        arrived = set(copies(server))
        server.handler.data_delay = 0
        run = deliver(cycle_id)
    with session_scope() as session:
        unknown = {m.to_addrs[0] for m in undelivered(cycle_id, session=session)}
    # The relay had accepted at least 4 before the kill: they are sent, not unknown; unknown
    # are the two in flight (and any acceptance the killed run had no time to write down).
    assert len(arrived) >= 4 and len(unknown) <= 4 and len(arrived - unknown) >= 2
    assert run.unknown_after_crash == len(unknown)
    assert counts(cycle_id) == {"sent": len(emails) - len(unknown), **({"unknown": len(unknown)} if unknown else {})}
    got = copies(server)
    assert all(got[e] == 1 for e in emails if e not in unknown)  # each once, never twice
    assert all(got[e] <= 1 for e in unknown)


def test_a_run_stopped_by_an_error_settles_its_claims_at_once(queued, configure):
    """A delivery run that raises in the middle (here its transport, after the first batch)
    leaves nothing "sending" until the lease ends: what it never sent is pending again."""
    from mail.configured import transport_from_settings
    from mail.delivery import deliver_pending

    cycle_id, emails = queued
    with SmtpServer() as server:
        use_smtp(configure, server.port, claim_batch=5)
        settings = get_settings()
        transport = transport_from_settings(
            settings.mail, database_url=settings.database.url, now=NOW
        )
        deliver = transport.deliver
        calls = []

        async def failing_second_batch(envelopes):
            calls.append(len(envelopes))
            if len(calls) == 2:
                raise RuntimeError("a bug in the middle of a run")
            return await deliver(envelopes)

        transport.deliver = failing_second_batch
        with pytest.raises(RuntimeError, match="a bug"):
            deliver_pending(cycle_id, transport=transport, settings=settings.mail, now=NOW)
    assert counts(cycle_id) == {"sent": 5, "pending": len(emails) - 5}  # none left "sending"
    assert len(server.received) == 5
