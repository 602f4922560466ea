"""Delivery against Postfix's smtp-sink, a C MTA test server, with the faults it can inject.

smtp-sink (Debian package postfix, installed by ``make test-system-packages``) answers 421 and
hangs up, refuses a command with 4xx or 5xx, hangs up without replying, waits before a reply,
or exits after a number of messages; with ``-d`` it writes every message it received to a
file, which is what the tests count and compare. Each agency ends with exactly one copy of its
request, except the messages marked unknown, which are listed and never resent blindly.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.smtp_sink import postfix_sink_command, wait_for_port
from mail.queue import undelivered
from models.database import session_scope
from models.orm import OutgoingMessage
from tests import test_delivery_faults as faults
from tests.servers import free_port, require_programs
from tests.test_delivery_faults import counts, deliver, use_smtp

queued = faults.queued  # the 2026 requests queued, not sent (a fixture)
pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


class PostfixSink:
    """``smtp-sink -d`` on a local port: every message it received is a file in ``folder``."""

    def __init__(self, *options: str, port: int | None = None, folder: Path):
        self.port = port or free_port()
        self.folder = folder
        self.options = options

    def __enter__(self) -> PostfixSink:
        require_programs("/usr/sbin/smtp-sink")
        self.folder.mkdir(exist_ok=True)
        shutil.chown(self.folder, "nobody")  # smtp-sink drops root for nobody
        template = f"{self.folder}/%Y%m%d%H%M%S."
        command = postfix_sink_command(self.port, "-d", template, *self.options)
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE)
        wait_for_port(self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(10)

    def received(self) -> list[tuple[list[str], bytes]]:
        """(recipients, message) of every transaction dumped, the message in LF form."""
        messages = []
        for path in sorted(self.folder.iterdir()):
            data = path.read_bytes()
            head, found, message = data.partition(b"\nReceived: ")
            if not found:
                continue  # a transaction that ended before any content (no DATA)
            message = message.split(b"\n", 1)[1]  # after smtp-sink's Received: line
            while message.startswith((b" ", b"\t")):  # its continuation lines
                message = message.split(b"\n", 1)[1]
            recipients = re.findall(rb"^X-Rcpt-Args: <([^>]+)>", head, re.M)
            messages.append(([r.decode() for r in recipients], message[:-1]))  # its blank line
        return messages


@pytest.fixture
def dumps():
    folder = Path(tempfile.mkdtemp(prefix="r42-smtp-sink-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def copies(sink: PostfixSink) -> Counter:
    return Counter(recipients[0] for recipients, _ in sink.received())


def stored(cycle_id: int) -> dict[str, bytes]:
    with session_scope() as session:
        rows = session.query(OutgoingMessage).filter_by(cycle_id=cycle_id)
        return {m.to_addrs[0]: m.raw for m in rows}


def test_messages_arrive_as_stored(queued, configure, dumps):
    cycle_id, emails = queued
    with PostfixSink(folder=dumps / "a") as sink:
        use_smtp(configure, sink.port)
        deliver(cycle_id)
    assert counts(cycle_id) == {"sent": len(emails)}
    raw = stored(cycle_id)
    received = sink.received()
    assert sorted(r[0] for r, _ in received) == emails
    for (recipient,), message in received:
        assert message == raw[recipient].replace(b"\r\n", b"\n")
        parsed = email.message_from_bytes(message, policy=email.policy.default)
        assert parsed["Subject"].startswith("[NQ42]")


def test_421_at_greeting_then_back(queued, configure, dumps):
    cycle_id, emails = queued
    port = free_port()
    use_smtp(configure, port)
    with PostfixSink("-Q", "CONNECT", port=port, folder=dumps / "a"):
        deliver(cycle_id)
    assert counts(cycle_id) == {"pending": len(emails)}
    with session_scope() as session:
        assert all("421" in m.last_reply for m in session.query(OutgoingMessage))
    with PostfixSink(port=port, folder=dumps / "b") as sink:
        deliver(cycle_id)
        deliver(cycle_id)  # nothing is due any more
    assert counts(cycle_id) == {"sent": len(emails)} and copies(sink) == Counter(emails)


@pytest.mark.parametrize("option, status", [("-r", "pending"), ("-f", "failed")])
def test_every_recipient_refused(queued, configure, dumps, option, status):
    cycle_id, emails = queued
    with PostfixSink(option, "RCPT", folder=dumps / "a") as sink:
        use_smtp(configure, sink.port, retry_wait_seconds=0)
        deliver(cycle_id)
    assert counts(cycle_id) == {status: len(emails)} and sink.received() == []
    with session_scope() as session:
        replies = {m.last_reply.split(": ", 1)[1] for m in session.query(OutgoingMessage)}
    assert replies == {
        "450 4.3.0 Error: command failed"
        if status == "pending"
        else "500 5.3.0 Error: command failed"
    }


def test_a_hang_up_after_the_data_is_unknown_and_never_resent(queued, configure, dumps):
    cycle_id, emails = queued
    with PostfixSink("-q", ".", folder=dumps / "a") as sink:
        use_smtp(configure, sink.port)
        deliver(cycle_id)
        deliver(cycle_id)
    assert counts(cycle_id) == {"unknown": len(emails)}
    assert copies(sink) == Counter(emails)  # each arrived once: resending would duplicate it
    with session_scope() as session:
        assert all("after data" in m.last_reply for m in undelivered(cycle_id, session=session))


def test_a_server_that_stops_after_k_messages_then_comes_back(queued, configure, dumps):
    cycle_id, emails = queued
    port = free_port()
    use_smtp(configure, port, smtp_connections=1)
    with PostfixSink("-M", "3", port=port, folder=dumps / "a") as first:
        deliver(cycle_id)
        first.process.wait(10)  # it exits after the third message
    before = counts(cycle_id)
    assert before.get("sent", 0) + before.get("unknown", 0) == 3
    with PostfixSink(port=port, folder=dumps / "b") as second:
        deliver(cycle_id)
    final = counts(cycle_id)
    with session_scope() as session:
        unknown = {m.to_addrs[0] for m in undelivered(cycle_id, session=session)}
    assert final == {"sent": len(emails) - len(unknown), **({"unknown": 1} if unknown else {})}
    got = copies(first) + copies(second)
    assert all(got[e] == 1 for e in emails)  # the unknown one arrived too, once


def test_a_server_slower_than_the_timeout_is_unknown_not_resent(queued, configure, dumps):
    cycle_id, emails = queued
    with PostfixSink("-W", ".:2", folder=dumps / "a") as sink:
        use_smtp(configure, sink.port, smtp_timeout=0.5, smtp_connections=8)
        deliver(cycle_id)
    assert counts(cycle_id) == {"unknown": len(emails)}
    assert copies(sink) == Counter(emails)
