"""``r42 check``'s look at the relay: connect, EHLO, STARTTLS or implicit TLS with certificate
verification, AUTH when a login is set, then QUIT. No MAIL FROM: nothing is ever sent."""

from __future__ import annotations

import asyncio
import ssl

import aiosmtplib

from config.settings import MailSettings
from flows.check import FAIL, OK, Row


def relay_tls_context(settings: MailSettings) -> ssl.SSLContext:
    """Verification as the sending runs do it, with the relay's own CA file when one is set."""
    return ssl.create_default_context(cafile=settings.smtp_ca_file)


def _failure(exc: BaseException, settings: MailSettings) -> str:
    where = f"R42_MAIL__SMTP_HOST={settings.smtp_host} port {settings.smtp_port}"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"{where}: certificate not trusted ({cause.verify_message}): set "
                "R42_MAIL__SMTP_CA_FILE to the CA that signed it"
            )
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return (
            f"{where}: login refused ({exc.code} {exc.message}): check R42_MAIL__SMTP_USERNAME "
            "and R42_MAIL__SMTP_PASSWORD"
        )
    text = str(exc) or type(exc).__name__
    if "STARTTLS" in text.upper() and settings.smtp_security == "starttls":
        return (
            f"{where} does not offer STARTTLS while R42_MAIL__SMTP_SECURITY=starttls: "
            "no password was sent; ask for TLS on the relay or use its TLS port"
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{where} answered {exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPConnectTimeoutError | TimeoutError):
        return f"{where}: no answer within {settings.smtp_timeout:g} s (R42_MAIL__SMTP_TIMEOUT)"
    return f"{where}: cannot connect: {text}"


async def _probe(settings: MailSettings) -> str:
    tls = settings.smtp_security != "none"
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        timeout=min(settings.smtp_timeout, 10),
        use_tls=settings.smtp_security == "tls",
        start_tls=settings.smtp_security == "starttls",
        tls_context=relay_tls_context(settings) if tls else None,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
    )
    await client.connect()
    try:
        if client.is_ehlo_or_helo_needed:
            await client.ehlo()
        done = ["EHLO"]
        if tls:
            done.append("TLS" if settings.smtp_security == "tls" else "STARTTLS")
        if settings.smtp_username:
            done.append("AUTH")
        await client.quit()
    finally:
        client.close()
    return ", ".join(done)


def probe(settings: MailSettings) -> Row:
    """One row: OK with what the relay did, or FAIL with what to do."""
    try:
        done = asyncio.run(_probe(settings))
    except Exception as exc:
        return Row(FAIL, "smtp", _failure(exc, settings))
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    if settings.smtp_security == "none":
        return Row(OK, "smtp", f"{where} answers ({done}); R42_MAIL__SMTP_SECURITY=none")
    return Row(OK, "smtp", f"{where}: {done}, certificate verified, QUIT without sending")
