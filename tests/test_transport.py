"""The SMTP and outbox transports against a real in-process SMTP server with injected faults."""

import asyncio
import datetime as dt

import aiosmtplib
import pytest

from config.mail_settings import MailSettings
from documents.templating import render_email
from mail.compose import Recipient, compose
from mail.configured import transport_from_settings
from mail.outbox_folder import OutboxFolderTransport
from mail.transport import Envelope, SmtpTransport
from mail.wire import check_wire_form, ready_for_data
from mail.workers import MultiProcessSmtpTransport
from models.orm import DeliveryStatus
from tests.servers import SmtpHandler, SmtpServer, free_port

NOW = dt.datetime(2026, 11, 2, 8, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def envelope(settings, to="vanthu@soyte.vinhlong.example", name="Sở Y tế", number=1):
    email = compose(
        render_email(
            "reminder",
            **{
                "year": 2026,
                "deadline": dt.date(2026, 12, 4),
                "programme_name": "Chương trình",
                "short_name": "Chương trình hành động",
                "decision": "Quyết định",
                "target_year": 2030,
                "standing_agency": "Sở Nội vụ",
                "ministry": "Bộ Nội vụ",
                "province": "Vĩnh Long",
                "sender_name": settings.sender_name,
                "agency_name": name,
                "head_title": "Giám đốc",
                "link": "http://127.0.0.1:8042/bao-cao/x",
                "link_expires": dt.date(2027, 3, 1),
                "today": dt.date(2026, 11, 20),
                "days_left": 14,
                "days_late": 0,
                "escalated": False,
            },
        ),
        to=[Recipient(name, to)],
        settings=settings,
        now=NOW,
    )
    return Envelope(email.message_id, f"m{number}", settings.sender_address, email.to, email.raw)


def send(transport, envelopes):
    """Deliver and close the transport's connections, as a delivery run does."""

    async def run():
        try:
            return await transport.deliver(envelopes)
        finally:
            await transport.aclose()

    return asyncio.run(run())


def smtp_settings(port, **extra):
    return MailSettings(
        **{
            "transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_timeout": 3,
            "smtp_connections": 2,
            **extra,
        }
    )


def test_messages_arrive_decoded_as_sent():
    with SmtpServer() as server:
        settings = smtp_settings(server.port)
        envelopes = [envelope(settings, f"a{i}@x.example", number=i) for i in range(5)]
        results = send(SmtpTransport(settings), (envelopes))
    assert [r.status for r in results] == [DeliveryStatus.SENT] * 5
    assert sorted(r.recipients[0] for r in server.received) == [f"a{i}@x.example" for i in range(5)]
    message = server.received[0].message
    assert "còn 14 ngày" in message["Subject"]
    assert message["To"].addresses[0].display_name == "Sở Y tế"
    assert "Quý cơ quan" in message.get_body(("plain",)).get_content()


def test_permanent_and_temporary_refusals_are_told_apart():
    with SmtpServer() as server:
        server.handler.refuse_recipients = {
            "gone@x.example": "550 5.1.1 No such user",
            "full@x.example": "452 4.2.2 Mailbox full",
        }
        settings = smtp_settings(server.port)
        results = asyncio.run(
            SmtpTransport(settings).deliver(
                [
                    envelope(settings, "gone@x.example", number=1),
                    envelope(settings, "full@x.example", number=2),
                    envelope(settings, "ok@x.example", number=3),
                ]
            )
        )
    assert [r.status for r in results] == [
        DeliveryStatus.FAILED,
        DeliveryStatus.PENDING,
        DeliveryStatus.SENT,
    ]
    assert "550" in results[0].reply and "452" in results[1].reply
    assert [r.recipients for r in server.received] == [["ok@x.example"]]


def test_a_data_refusal_keeps_the_server_reply():
    with SmtpServer() as server:
        server.handler.data_reply = "451 4.3.0 Try again later"
        settings = smtp_settings(server.port)
        (result,) = send(SmtpTransport(settings), ([envelope(settings)]))
    assert result.status == DeliveryStatus.PENDING
    assert result.reply.startswith("451")


def test_a_server_that_is_down_leaves_messages_pending():
    settings = smtp_settings(free_port())
    results = send(SmtpTransport(settings), ([envelope(settings), envelope(settings)]))
    assert {r.status for r in results} == {DeliveryStatus.PENDING}
    assert "connection failed" in results[0].reply


def test_the_outbox_folder_never_writes_a_message_twice(tmp_path):
    settings = MailSettings(outbox_dir=tmp_path)
    message = envelope(settings)
    transport = OutboxFolderTransport(tmp_path)
    first = asyncio.run(transport.deliver([message]))
    again = asyncio.run(transport.deliver([message]))
    assert first[0].status == again[0].status == DeliveryStatus.SENT
    assert "already in the outbox" in again[0].reply
    assert [p.name for p in tmp_path.iterdir()] == ["m1.eml"]


# --- the wire form and the fast path --------------------------------------------------------


def test_composed_messages_are_in_wire_form_and_others_are_told_apart():
    raw = envelope(MailSettings()).raw
    assert check_wire_form(raw) is raw and ready_for_data(raw)
    assert not ready_for_data(raw[:-2])  # no final CRLF
    for bad in (b".hidden\r\n", b"a\r\n.\r\nQUIT\r\n", b"a\n.b\r\n", b"a\r.b\r\n", b"a\nb\r\n"):
        assert not ready_for_data(bad), bad
    assert ready_for_data(b"a\n\rb\r\n")  # balanced bare line ends: framing still sound...
    with pytest.raises(ValueError, match="wire form"):
        check_wire_form(b"a\n\rb\r\n")  # ...but compose never writes them


def test_a_composed_message_arrives_octet_for_octet_over_one_connection():
    with SmtpServer() as server:
        settings = smtp_settings(server.port, smtp_connections=1)
        envelopes = [envelope(settings, f"a{i}@x.example", number=i) for i in range(4)]
        results = send(SmtpTransport(settings), envelopes)
    assert [r.status for r in results] == [DeliveryStatus.SENT] * 4
    assert [r.raw for r in server.received] == [e.raw for e in envelopes]


def test_a_message_not_in_wire_form_is_normalised_and_dot_stuffed_on_the_way():
    raw = b"Subject: dots\nTo: a@x.example\n\n.one\r\n..two\rthree\n.\n"
    with SmtpServer() as server:
        settings = smtp_settings(server.port, smtp_connections=1)
        (result,) = send(
            SmtpTransport(settings),
            [Envelope("<d@x>", "d", settings.sender_address, ["a@x.example"], raw)],
        )
    assert result.status == DeliveryStatus.SENT
    (received,) = server.received
    assert received.raw == raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


class _RefusingSender(SmtpHandler):
    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if len(self.received) >= 1:
            return "451 4.3.0 Sender temporarily refused"
        envelope.mail_from = address
        return "250 OK"


def test_refusals_on_a_reused_connection_keep_their_classes(monkeypatch):
    """Refusals on one connection stay with their message; aiosmtplib only opens it."""
    slow_calls = []
    for name in ("mail", "rcpt", "data"):
        original = getattr(aiosmtplib.SMTP, name)

        async def counted(self, *args, _original=original, _name=name, **kwargs):
            slow_calls.append(_name)
            return await _original(self, *args, **kwargs)

        monkeypatch.setattr(aiosmtplib.SMTP, name, counted)
    with SmtpServer() as server:
        server.handler.refuse_recipients = {
            "gone@x.example": "550 5.1.1 No such user",
            "full@x.example": "452 4.2.2 Mailbox full",
        }
        settings = smtp_settings(server.port, smtp_connections=1)
        addresses = ["ok@x.example", "gone@x.example", "full@x.example", "ok2@x.example"]
        envelopes = [envelope(settings, a, number=i) for i, a in enumerate(addresses)]
        results = send(SmtpTransport(settings), envelopes)
    assert [r.status for r in results] == [
        DeliveryStatus.SENT,
        DeliveryStatus.FAILED,
        DeliveryStatus.PENDING,
        DeliveryStatus.SENT,
    ]
    assert results[1].reply.endswith("550 5.1.1 No such user")
    assert [r.recipients for r in server.received] == [["ok@x.example"], ["ok2@x.example"]]
    assert slow_calls == []  # transactions run on mail.smtp_session, not aiosmtplib's commands
    with SmtpServer() as server:
        server.handler = server.controller.handler = _RefusingSender()
        settings = smtp_settings(server.port, smtp_connections=1)
        results = send(SmtpTransport(settings), envelopes[:2])
    assert [r.status for r in results] == [DeliveryStatus.SENT, DeliveryStatus.PENDING]
    assert results[1].reply.startswith("451")


def test_several_sending_processes_deliver_each_message_once():
    with SmtpServer() as server:
        server.handler.refuse_recipients = {"gone@x.example": "550 5.1.1 No such user"}
        settings = smtp_settings(server.port, smtp_processes=2)
        addresses = [f"a{i}@x.example" for i in range(11)] + ["gone@x.example"]
        envelopes = [envelope(settings, a, number=i) for i, a in enumerate(addresses)]
        transport = transport_from_settings(settings)
        assert isinstance(transport, MultiProcessSmtpTransport)

        async def run():
            try:
                first = await transport.deliver(envelopes[:5])
                return first + await transport.deliver(envelopes[5:])  # the same workers
            finally:
                await transport.aclose()

        results = asyncio.run(run())
    assert [r.message_id for r in results] == [e.message_id for e in envelopes]
    assert [r.status for r in results] == [DeliveryStatus.SENT] * 11 + [DeliveryStatus.FAILED]
    assert sorted(r.raw for r in server.received) == sorted(e.raw for e in envelopes[:11])
