"""Opening a connection to the relay, and what a failure to open one means for the run.

aiosmtplib does the greeting, EHLO, STARTTLS and AUTH; the open socket is then handed to
``SmtpSession`` for the transactions. A failure here is never the message's fault, so it
uses none of the message's attempts:

- ``RelayUnavailable``: the relay is down, busy (421) or slow: the messages wait, pending,
  and go out when it is back (the next run, or ``deliver-outbox`` within minutes);
- ``RelayRefused``: the relay refused *us*: a wrong password (535, 454, 530), a certificate
  we do not trust, STARTTLS required but not offered, a 5xx greeting. Trying again cannot
  help and a wrong password tried for every message locks the account: the run stops
  sending at once, the messages stay pending, and the reason is said once.
"""

from __future__ import annotations

import ssl

import aiosmtplib

from config.mail_settings import MailSettings
from mail.smtp_session import SmtpSession

_AUTH_CODES = (454, 530, 534, 535, 538)


class RelayUnavailable(Exception):
    """The relay could not be reached or asked us to come back later."""


class RelayRefused(Exception):
    """The relay refused this installation's connection or login: ops must act."""


def tls_context(settings: MailSettings) -> ssl.SSLContext | None:
    """One TLS context for every connection of a run (None without TLS)."""
    if settings.smtp_security == "none":
        return None
    return ssl.create_default_context(cafile=settings.smtp_ca_file)  # None: the system's CAs


async def open_session(settings: MailSettings, context: ssl.SSLContext | None) -> SmtpSession:
    """A greeted, logged-in connection, ready for transactions."""
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        timeout=settings.smtp_timeout,
        use_tls=settings.smtp_security == "tls",
        start_tls=settings.smtp_security == "starttls",
        tls_context=context,
    )
    try:
        await client.connect()
        if client.is_ehlo_or_helo_needed:  # connect() greets only to start TLS
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()
        if settings.smtp_username:
            await _log_in(client, settings)
    except Exception as exc:
        client.close()
        raise classify_connect_failure(exc, settings) from exc
    transport = client.transport
    if transport is None:  # pragma: no cover - connect() returned without a socket
        raise RelayUnavailable("the relay closed the connection while greeting")
    session = SmtpSession(
        transport,  # type: ignore[arg-type]
        pipelining=client.supports_extension("pipelining"),
        timeout=settings.smtp_timeout,
    )
    transport.set_protocol(session)  # aiosmtplib's part ends here
    return session


async def _log_in(client: aiosmtplib.SMTP, settings: MailSettings) -> None:
    """One AUTH with the best mechanism offered. aiosmtplib's ``login`` tries every mechanism
    in turn: a wrong password then costs two or three failed logins per connection."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
    offered = [m for m in ("plain", "login", "cram-md5") if m in client.supported_auth_methods]
    if not offered:
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        raise RelayRefused(
            f"{where} offers no login (AUTH PLAIN or LOGIN) although R42_MAIL__SMTP_USERNAME is "
            "set: check R42_MAIL__SMTP_SECURITY (most relays offer it only over TLS)"
        )
    method = getattr(client, f"auth_{offered[0].replace('-', '')}")
    await method(settings.smtp_username, password)


def classify_connect_failure(exc: BaseException, settings: MailSettings) -> Exception:
    """``RelayRefused`` when retrying cannot help, else ``RelayUnavailable``."""
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    if isinstance(exc, RelayRefused | RelayUnavailable):
        return exc
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return RelayRefused(
                f"certificate of {where} not trusted ({cause.verify_message}): "
                "set R42_MAIL__SMTP_CA_FILE to the CA that signed it"
            )
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError) or (
        isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code in _AUTH_CODES
    ):
        return RelayRefused(
            f"{where} refused the login ({exc.code} {exc.message}): check "
            "R42_MAIL__SMTP_USERNAME and R42_MAIL__SMTP_PASSWORD; nothing more is tried "
            "until the next run, so the account is not locked"
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500:
        return RelayRefused(f"{where} refused the connection: {exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return RelayUnavailable(f"{exc.code} {exc.message}".strip())
    message = str(exc)
    if "STARTTLS" in message or "starttls" in message:
        return RelayRefused(
            f"{where} does not offer STARTTLS while R42_MAIL__SMTP_SECURITY=starttls: "
            "nothing was sent, the password neither"
        )
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
        return RelayUnavailable(f"connection failed: {message or type(exc).__name__}")
    return RelayUnavailable(f"connection failed: {type(exc).__name__}: {message}")
