"""The receipt sender's delivery runs (``mail.runner``): one event loop for all of them, and over
SMTP the relay connections kept from one run to the next; a kept connection the relay dropped
is opened again before any data (no receipt lost, doubled or charged an attempt), idle ones
say QUIT, and a wrong password still stops each run after one login."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from mail.runner import DeliveryRunner
from models.database import session_scope
from models.orm import OutgoingMessage
from portal.receipts import ReceiptSender
from tests.factories import at, outbox
from tests.servers import SmtpHandler, SmtpServer, make_tls_files
from tests.test_delivery_faults import counts, use_smtp
from tests.test_receipt_sender import DAY, queue_more, queue_receipts

NOW = at(DAY, 11)


class Connections(SmtpHandler):
    """Also records, per message, the connection it came on, and each QUIT. A connection in
    ``stale`` answers its next command with 421 and is closed (the relay's idle timeout, found
    only when the client next writes)."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[tuple[str, int]] = []
        self.transports: list = []
        self.stale: set = set()
        self.quits = 0

    def _timed_out(self, server) -> str | None:
        if server.transport not in self.stale:
            return None
        asyncio.get_running_loop().call_soon(server.transport.close)
        return "421 4.4.2 idle too long, closing"

    async def handle_NOOP(self, server, session, envelope, arg):  # noqa: N802
        return self._timed_out(server) or "250 OK"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if reply := self._timed_out(server):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.peers.append(session.peer)
        if server.transport not in self.transports:
            self.transports.append(server.transport)
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802
        self.quits += 1
        return "221 Bye"


def relay() -> SmtpServer:
    server = SmtpServer()
    server.handler = server.controller.handler = Connections()
    return server


def settled(cycle_id: int) -> list[tuple[str, int]]:
    with session_scope() as session:
        query = select(OutgoingMessage.status, OutgoingMessage.attempts).where(
            OutgoingMessage.cycle_id == cycle_id
        )
        return sorted(session.execute(query).all())


def test_runs_share_the_relay_connections_and_quit_them_when_idle(db, configure):
    cycle_id = queue_receipts(6, "50,5")
    runner = DeliveryRunner(idle_seconds=0.3)
    with relay() as server:
        use_smtp(configure, server.port, smtp_connections=2)
        assert runner.deliver(cycle_id, now=NOW).results
        first = set(server.handler.peers)
        assert len(first) == 2 and server.handler.quits == 0 and runner.holds_connections
        queue_more(cycle_id)
        runner.deliver(cycle_id, now=NOW)
        assert set(server.handler.peers[6:]) <= first  # no new connection, no QUIT between
        assert server.handler.quits == 0
        runner.close_idle()  # used just now: kept
        assert runner.holds_connections
        time.sleep(0.35)
        runner.close_idle()
        assert not runner.holds_connections and server.handler.quits == 2
        runner.close()
    assert settled(cycle_id) == [("sent", 1)] * 9
    assert Counter(r.recipients[0] for r in server.received) == Counter(
        m.to_addrs[0] for m in outbox_rows(cycle_id)
    )


def outbox_rows(cycle_id: int) -> list[OutgoingMessage]:
    with session_scope() as session:
        query = select(OutgoingMessage).where(OutgoingMessage.cycle_id == cycle_id)
        return list(session.scalars(query))


def test_a_kept_connection_the_relay_dropped_is_opened_again_before_any_data(db, configure):
    cycle_id = queue_receipts(4, "50,5")
    runner = DeliveryRunner()
    with relay() as server:
        use_smtp(configure, server.port, smtp_connections=2)
        runner.deliver(cycle_id, now=NOW)
        dropped = set(server.handler.peers)
        server.handler.stale = set(server.handler.transports)
        queue_more(cycle_id)
        run = runner.deliver(cycle_id, now=NOW)
        runner.close()
    assert run.stopped is None and len(server.received) == 7
    assert not set(server.handler.peers[4:]) & dropped  # sent on new connections
    # Each receipt once, by its first attempt: none unknown, none charged for the drop.
    assert settled(cycle_id) == [("sent", 1)] * 7
    assert Counter(r.recipients[0] for r in server.received) == Counter(
        m.to_addrs[0] for m in outbox_rows(cycle_id)
    )


def test_a_wrong_password_stops_each_run_after_one_login(db, configure, tmp_path, monkeypatch):
    cycle_id = queue_receipts(4, "50,5")
    cert, _, context = make_tls_files(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data.login)
        return AuthResult(success=auth_data.password == b"right", handled=False)

    options = dict(tls_context=context, require_starttls=True, auth_required=True)
    runner = DeliveryRunner()
    with SmtpServer(authenticator=authenticator, **options) as server:
        use_smtp(
            configure, server.port, smtp_security="starttls", smtp_username="tonghop",
            smtp_password="wrong", smtp_connections=4,
        )  # fmt: skip
        for expected in (1, 2):  # once per run, not once per connection or message
            run = runner.deliver(cycle_id, now=NOW)
            assert run.refused and "R42_MAIL__SMTP_PASSWORD" in run.refused
            assert logins == [b"tonghop"] * expected
        assert settled(cycle_id) == [("pending", 0)] * 4
        configure(R42_MAIL__SMTP_PASSWORD="right")  # new settings: a new transport
        run = runner.deliver(cycle_id, now=NOW)
        runner.close()
    assert run.refused is None and counts(cycle_id) == {"sent": 4}
    assert len(server.received) == 4


def test_the_receipt_sender_keeps_its_connection_and_quits_when_it_stops(db, configure):
    cycle_id = queue_receipts(5, "50,5")
    sender = ReceiptSender(lambda: NOW)
    with relay() as server:
        use_smtp(configure, server.port, smtp_connections=1)
        sender.notify(cycle_id).result(60)
        queue_more(cycle_id)
        sender.notify(cycle_id).result(60)
        assert server.handler.quits == 0
        sender.stop()
        assert len(set(server.handler.peers)) == 1 and server.handler.quits == 1
    assert settled(cycle_id) == [("sent", 1)] * 8
    assert outbox("receipt") == []  # over SMTP: nothing in the outbox folder
