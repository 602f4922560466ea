"""A relay with TLS, AUTH and a private CA, trusted through R42_MAIL__SMTP_CA_FILE alone (not
SSL_CERT_FILE, which would also change Prefect's HTTP client): messages sent over the sending
runs' own transport to aiosmtpd with a certificate made in the test."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from aiosmtpd.smtp import AuthResult

from config.mail_settings import MailSettings
from mail.transport import Envelope, SmtpTransport
from models.orm import DeliveryStatus
from tests.servers import SmtpServer, make_tls_files

RAW = (
    b"From: tonghop@vinhlong.example\r\nTo: a@so.vinhlong.example\r\n"
    b"Subject: TLS\r\nMessage-ID: <tls-{n}@r42.example>\r\n\r\nXin chao.\r\n"
)


def envelopes(count: int) -> list[Envelope]:
    return [
        Envelope(
            message_id=f"<tls-{n}@r42.example>",
            name=f"tls-{n}",
            sender="tonghop@vinhlong.example",
            recipients=["a@so.vinhlong.example"],
            raw=RAW.replace(b"{n}", str(n).encode()),
        )
        for n in range(count)
    ]


def send(settings: MailSettings, count: int = 3):
    async def run():
        transport = SmtpTransport(settings)
        try:
            return await transport.deliver(envelopes(count)), transport.refusal
        finally:
            await transport.aclose()

    return asyncio.run(run())


class Logins:
    """aiosmtpd's authenticator: records every login, accepts one password."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        self.seen.append((mechanism, auth_data.login))
        return AuthResult(success=auth_data.password == b"right", handled=False)


@pytest.fixture
def tls_files(tmp_path):
    return make_tls_files(tmp_path)


def settings_for(port: int, ca_file, **extra) -> MailSettings:
    return MailSettings(
        transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_timeout=5,
        smtp_ca_file=ca_file,
        smtp_connections=2,
        **extra,
    )


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_required_then_auth_sends_every_message(tls_files, monkeypatch, mechanism):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    certificate, _, context = tls_files
    logins = Logins()
    other = {"PLAIN": ["LOGIN"], "LOGIN": ["PLAIN"]}[mechanism]
    with SmtpServer(
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=logins,
        auth_exclude_mechanism=other,
    ) as server:
        settings = settings_for(
            server.port,
            certificate,
            smtp_security="starttls",
            smtp_username="tonghop",
            smtp_password="right",
        )
        results, refusal = send(settings)
    assert refusal is None
    assert [r.status for r in results] == [DeliveryStatus.SENT] * 3
    assert {m for m, _ in logins.seen} == {mechanism}
    assert len(server.received) == 3
    assert server.received[0].message["Subject"] == "TLS"


def test_implicit_tls(tls_files, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    certificate, _, context = tls_files
    with SmtpServer(ssl_context=context, server_hostname="127.0.0.1") as server:
        results, refusal = send(settings_for(server.port, certificate, smtp_security="tls"))
    assert refusal is None and [r.status for r in results] == [DeliveryStatus.SENT] * 3


def test_a_wrong_password_is_one_clear_refusal(tls_files):
    certificate, _, context = tls_files
    logins = Logins()
    with SmtpServer(
        tls_context=context, require_starttls=True, auth_required=True, authenticator=logins
    ) as server:
        settings = settings_for(
            server.port,
            certificate,
            smtp_security="starttls",
            smtp_username="tonghop",
            smtp_password="wrong",
        )
        results, refusal = send(settings)
    assert len(logins.seen) == 1 and server.received == []
    assert "refused the login" in refusal and "R42_MAIL__SMTP_PASSWORD" in refusal
    assert all(r.status == DeliveryStatus.PENDING and not r.attempted for r in results)


def test_no_starttls_offered_while_required_sends_no_credentials(monkeypatch):
    logins = Logins()
    with SmtpServer(authenticator=logins, auth_require_tls=False) as server:
        settings = settings_for(
            server.port,
            None,
            smtp_security="starttls",
            smtp_username="tonghop",
            smtp_password="right",
        )
        results, refusal = send(settings)
    assert logins.seen == [] and server.received == []
    assert "does not offer STARTTLS" in refusal
    assert all(not r.attempted for r in results)


def test_an_untrusted_certificate_says_to_set_the_ca_file_and_is_not_retried(tls_files):
    _, _, context = tls_files
    with SmtpServer(tls_context=context, require_starttls=True) as server:
        settings = settings_for(server.port, None, smtp_security="starttls")
        results, refusal = send(settings, count=5)
    assert "not trusted" in refusal and "set R42_MAIL__SMTP_CA_FILE" in refusal
    assert server.received == []
    assert all(not r.attempted for r in results)  # not a temporary error: attempts kept


def test_the_ca_file_is_used_for_the_relay_only(tls_files, monkeypatch):
    """Trusting the relay's CA does not require SSL_CERT_FILE, and leaves the default
    context (Prefect's HTTP client, every other TLS connection) as it was."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    certificate, _, _ = tls_files
    default = ssl.create_default_context()
    issuers = {c["issuer"] for c in default.get_ca_certs()}
    relay = ssl.create_default_context(cafile=certificate)
    assert any("relay.test" in str(c["issuer"]) for c in relay.get_ca_certs())
    assert not any("relay.test" in str(i) for i in issuers)
