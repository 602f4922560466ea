"""``r42 check``'s look at the relay: connect, EHLO, STARTTLS or implicit TLS with certificate
verification, AUTH when a login is set, then QUIT. No MAIL FROM: nothing is ever sent. The
connection is opened exactly as the sending runs open theirs (``mail.relay``)."""

from __future__ import annotations

import asyncio

from cli.check_rows import FAIL, OK, Row
from config.mail_settings import MailSettings
from mail.relay import RelayRefused, RelayUnavailable, classify_connect_failure, open_session
from mail.relay import tls_context as relay_tls_context


async def _probe(settings: MailSettings) -> str:
    session = await open_session(settings, relay_tls_context(settings))
    try:
        await session.quit()
    finally:
        session.close()
    done = ["EHLO"]
    if settings.smtp_security != "none":
        done.append("TLS" if settings.smtp_security == "tls" else "STARTTLS")
    if settings.smtp_username:
        done.append("AUTH")
    return ", ".join(done)


def probe(settings: MailSettings) -> Row:
    """One row: OK with what the relay did, or FAIL with what to do."""
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        done = asyncio.run(_probe(settings))
    except (RelayRefused, RelayUnavailable) as exc:
        return Row(FAIL, "smtp", f"R42_MAIL__SMTP_HOST={settings.smtp_host}: {exc}")
    except Exception as exc:
        reason = classify_connect_failure(exc, settings)
        return Row(FAIL, "smtp", f"R42_MAIL__SMTP_HOST={settings.smtp_host}: {reason}")
    if settings.smtp_security == "none":
        return Row(OK, "smtp", f"{where} answers ({done}); R42_MAIL__SMTP_SECURITY=none")
    return Row(OK, "smtp", f"{where}: {done}, certificate verified, QUIT without sending")
