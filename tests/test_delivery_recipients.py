"""Delivery faults as they come together: several recipients on one message, several messages
on one connection, a refusal in the middle, a wrong password. Counted at the server: each
recipient ends with exactly one accepted copy, or is listed failed/unknown with the reply."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from aiosmtpd.smtp import AuthResult

from cli import main as cli
from config.settings import get_settings
from mail.queue import undelivered
from models.cycles import ensure_requests, get_cycle, open_cycle
from models.database import session_scope
from models.orm import OutgoingMessage, OutgoingRecipient
from reporting.consolidation import consolidate
from reporting.reminders import queue_reminders
from tests.factories import PROGRAMME, at
from tests.servers import SmtpServer, make_tls_files
from tests.test_delivery_faults import NOW, counts, deliver, queued, use_smtp  # noqa: F401


@pytest.fixture
def late_reminders(db, configure):
    """The day-after-deadline reminders queued: each To the agency and Cc its head."""
    with session_scope() as session:
        cycle, _ = open_cycle(PROGRAMME, 2026, dt.date(2026, 11, 2), session=session)
        ensure_requests(cycle, session=session)
        day = cycle.deadline + dt.timedelta(days=1)
        queue_reminders(cycle, day, session=session, settings=get_settings(), now=at(day, 8))
        heads = {m.to_addrs[0]: m.cc_addrs[0] for m in session.query(OutgoingMessage)}
        assert heads and all(heads.values())
        return cycle.id, heads


def per_recipient(server: SmtpServer) -> Counter:
    return Counter(r for received in server.received for r in received.recipients)


def recipient_status(address: str) -> tuple[str, str | None]:
    with session_scope() as session:
        row = session.query(OutgoingRecipient).filter_by(address=address).one()
        return row.status, row.last_reply


def test_a_4xx_for_the_head_is_retried_for_the_head_alone(late_reminders, configure, capsys):
    cycle_id, heads = late_reminders
    agency, head = sorted(heads.items())[0]
    with SmtpServer() as server:
        use_smtp(configure, server.port, retry_wait_seconds=0)
        server.handler.refuse_recipients = {head: "450 4.2.1 Mailbox busy"}
        deliver(cycle_id)
        assert counts(cycle_id) == {"sent": len(heads) - 1, "pending": 1}
        assert recipient_status(agency)[0] == "sent"
        assert recipient_status(head) == ("pending", "450 4.2.1 Mailbox busy")
        assert cli.main(["deliveries", "--year", "2026"]) == 0
        listing = capsys.readouterr().out
        assert f"    pending  {head}  450 4.2.1 Mailbox busy" in listing
        assert f"    sent     {agency}" in listing
        server.handler.refuse_recipients = {}
        configure(R42_MAIL__RETRY_WAIT_SECONDS=2)
        deliver(cycle_id)
    assert counts(cycle_id) == {"sent": len(heads)}
    expected = Counter(list(heads) + list(heads.values()))
    assert per_recipient(server) == expected  # one accepted copy each, the head's retried alone
    first, again = [r for r in server.received if {agency, head} & set(r.recipients)]
    assert first.recipients == [agency] and again.recipients == [head]
    assert first.raw == again.raw  # the same stored bytes, the same Message-ID


def test_a_5xx_for_the_head_leaves_the_message_partial_until_released(
    late_reminders, configure, capsys
):
    cycle_id, heads = late_reminders
    agency, head = sorted(heads.items())[0]
    with SmtpServer() as server:
        use_smtp(configure, server.port, retry_wait_seconds=0)
        server.handler.refuse_recipients = {head: "550 5.1.1 No such mailbox"}
        deliver(cycle_id)
        assert counts(cycle_id) == {"sent": len(heads) - 1, "partial": 1}
        with session_scope() as session:
            (partial,) = undelivered(cycle_id, session=session)
            assert [(r.address, r.status) for r in partial.recipients] == [
                (agency, "sent"),
                (head, "failed"),
            ]
        assert cli.main(["deliveries", "--year", "2026"]) == 0
        assert "1 failed, unknown or partial" in capsys.readouterr().out
        with session_scope() as session:
            cycle = get_cycle(PROGRAMME, 2026, session=session)
            data = consolidate(cycle, session=session, as_of=at(dt.date(2026, 12, 8)))
        (row,) = data.undelivered  # the report lists who did not get it, and why
        assert row.status_text == "Chưa đến được một số người nhận"
        assert row.reply == f"{head}: 550 5.1.1 No such mailbox"
        server.handler.refuse_recipients = {}
        assert cli.main(["release", "--year", "2026", "--all-failed", "--yes"]) == 0
    assert counts(cycle_id) == {"sent": len(heads)}
    assert per_recipient(server) == Counter(list(heads) + list(heads.values()))


def test_a_refusal_at_data_never_changes_another_messages_outcome(queued, configure):  # noqa: F811
    cycle_id, emails = queued
    refused = emails[3]
    with SmtpServer() as server:
        use_smtp(configure, server.port, smtp_connections=1, claim_batch=64)
        server.handler.refuse_data_for = {refused: "554 5.6.0 Message content rejected"}
        deliver(cycle_id)
    assert counts(cycle_id) == {"sent": len(emails) - 1, "failed": 1}
    assert per_recipient(server) == Counter(e for e in emails if e != refused)
    assert recipient_status(refused) == ("failed", "554 5.6.0 Message content rejected")


def test_a_wrong_password_is_tried_once_per_run_and_leaves_everything_pending(
    queued, configure, tmp_path, monkeypatch  # noqa: F811
):
    cycle_id, emails = queued
    cert, key, context = make_tls_files(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the relay's private CA, trusted
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data.login)
        return AuthResult(success=auth_data.password == b"right", handled=False)

    with SmtpServer(
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    ) as server:
        use_smtp(
            configure,
            server.port,
            smtp_security="starttls",
            smtp_username="tonghop",
            smtp_password="wrong",
            smtp_connections=4,
        )
        run = deliver(cycle_id)
        assert logins == [b"tonghop"]  # not once per message, nor once per connection
        assert run.refused and "R42_MAIL__SMTP_PASSWORD" in run.refused
        assert counts(cycle_id) == {"pending": len(emails)}
        with session_scope() as session:
            assert {m.attempts for m in session.query(OutgoingMessage)} == {0}
        configure(R42_MAIL__SMTP_PASSWORD="right")
        run = deliver(cycle_id)
    assert run.refused is None and counts(cycle_id) == {"sent": len(emails)}
    assert per_recipient(server) == Counter(emails)


def test_only_a_message_in_wire_form_is_queued_so_attempts_send_the_stored_bytes(
    queued, configure  # noqa: F811
):
    """The outbox holds SMTP's wire form only (what ``compose`` writes: CRLF lines, no line
    opening with a dot), so the transport sends the stored bytes without checking their
    framing at each attempt; anything else is refused at queueing, naming the message."""
    from mail.compose import ComposedEmail
    from mail.queue import enqueue

    cycle_id, emails = queued
    with session_scope() as session:
        cycle = get_cycle(PROGRAMME, 2026, session=session)
        for raw in (b"Subject: x\nTo: a@x.example\n\nbare LF\n", b"Subject: x\r\n\r\n.dot\r\n"):
            email = ComposedEmail("x", ["a@x.example"], message_id="<bad@x>", raw=raw)
            with pytest.raises(ValueError, match=r"<bad@x> \(notice dots\): .*wire form"):
                enqueue(cycle, "notice", "dots", email, session=session, now=NOW)
        good = b"Subject: x\r\nTo: a@x.example\r\n\r\none. two\r\n"
        email = ComposedEmail("x", ["a@x.example"], message_id="<good@x>", raw=good)
        assert enqueue(cycle, "notice", "dots", email, session=session, now=NOW) is not None
    with SmtpServer() as server:
        use_smtp(configure, server.port)
        deliver(cycle_id)
        assert counts(cycle_id) == {"sent": len(emails) + 1}
    (arrived,) = [r for r in server.received if r.recipients == ["a@x.example"]]
    assert arrived.raw == good
