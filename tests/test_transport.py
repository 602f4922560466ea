"""The SMTP and outbox transports against a real in-process SMTP server with injected faults."""

import asyncio
import datetime as dt

from config.settings import MailSettings
from mail.compose import Recipient, compose
from mail.transport import Envelope, OutboxFolderTransport, SmtpTransport
from models.orm import DeliveryStatus
from tests.servers import SmtpServer, free_port

NOW = dt.datetime(2026, 11, 2, 8, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def envelope(settings, to="vanthu@soyte.vinhlong.example", name="Sở Y tế", number=1):
    email = compose(
        "reminder",
        {
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
        transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_timeout=3,
        smtp_connections=2,
        **extra,
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
