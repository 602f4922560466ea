"""smtp-sink's faults that once lost or stranded mail, on SQLite and PostgreSQL: a refused
DATA command (the transaction stays open) and a failure before the data left."""

from __future__ import annotations

from collections import Counter

import pytest

from models.database import session_scope
from models.orm import OutgoingMessage
from tests.servers import free_port
from tests.test_delivery_faults import counts, deliver, queued, use_smtp  # noqa: F401
from tests.test_postfix_faults import PostfixSink, copies, dumps  # noqa: F401


@pytest.mark.parametrize("option, status, code", [("-r", "pending", "450"), ("-f", "failed", "500")])
def test_a_refused_data_command_never_poisons_the_connection(
    queued, configure, dumps, option, status, code
):
    """smtp-sink refuses DATA (the transaction stays open): RSET before the next message, so
    every message keeps the server's own reply, never "503 nested MAIL command"."""
    cycle_id, emails = queued
    with PostfixSink(option, "DATA", folder=dumps / "a") as sink:
        use_smtp(configure, sink.port, smtp_connections=2, claim_batch=64, retry_wait_seconds=0)
        deliver(cycle_id)
    assert counts(cycle_id) == {status: len(emails)} and sink.received() == []
    with session_scope() as session:
        replies = {m.last_reply for m in session.query(OutgoingMessage)}
    assert replies == {f"{code} {code[0]}.3.0 Error: command failed"}


@pytest.mark.parametrize("fault", [("-q", "DATA"), ("-w", "3")], ids=["hang-up", "too-slow"])
def test_a_failure_before_the_data_is_retried_not_unknown(queued, configure, dumps, fault):
    """The server hangs up at DATA, or does not answer DATA in time: the content never left,
    so the message is tried again (not "unknown") and arrives once when the server is back."""
    cycle_id, emails = queued
    port = free_port()
    use_smtp(configure, port, smtp_timeout=1, claim_batch=64, retry_wait_seconds=0)
    with PostfixSink(*fault, port=port, folder=dumps / "a") as sink:
        deliver(cycle_id)
    assert counts(cycle_id) == {"pending": len(emails)} and sink.received() == []
    with session_scope() as session:
        assert all(m.last_reply.startswith("before data") for m in session.query(OutgoingMessage))
    configure(R42_MAIL__RETRY_WAIT_SECONDS=5)
    with PostfixSink(port=port, folder=dumps / "b") as sink:
        deliver(cycle_id)
    assert counts(cycle_id) == {"sent": len(emails)} and copies(sink) == Counter(emails)


def test_kill_9_against_smtp_sink_then_a_rerun_never_sends_twice(queued, configure, dumps):  # noqa: F811
    """smtp-sink holds its reply to each message's final dot for a second; the sending process
    is killed with kill -9 while two messages wait for it. After the lease only those are
    unknown, what smtp-sink had accepted is sent; the re-run sends every other message once."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from mail.queue import undelivered
    from tests.test_delivery_faults import KILLABLE

    cycle_id, emails = queued
    port = free_port()
    use_smtp(
        configure, port, smtp_connections=2, claim_batch=64, claim_lease_seconds=2, smtp_timeout=5
    )
    with PostfixSink("-W", ".:1", port=port, folder=dumps / "a") as first:
        child = subprocess.Popen([sys.executable, "-c", KILLABLE, str(cycle_id)], env=os.environ)
        deadline = time.monotonic() + 30
        while len(first.received()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait()
        time.sleep(1.5)
    arrived = set(copies(first))
    time.sleep(1)  # the lease ends
    with PostfixSink(port=port, folder=dumps / "b") as second:
        deliver(cycle_id)
    with session_scope() as session:
        unknown = {m.to_addrs[0] for m in undelivered(cycle_id, session=session)}
    # What smtp-sink had answered before the kill is sent; unknown: the two waiting for their
    # reply (and an acceptance the run had no time to write down).
    assert len(unknown) <= 4 and len(arrived - unknown) >= 1
    assert counts(cycle_id) == {
        "sent": len(emails) - len(unknown),
        **({"unknown": len(unknown)} if unknown else {}),
    }
    got = copies(first) + copies(second)
    assert all(got[e] == 1 for e in emails if e not in unknown)
    assert all(got[e] <= 1 for e in unknown)
