"""The go-live checklist behind ``r42 check``: everything that would fail on the first real
cycle, found before it, each as one row (OK, WARN or FAIL) that names the setting and says what
to do. Nothing is sent or stored: the SMTP probe says QUIT before MAIL FROM, the registry
comparison runs in a transaction that is rolled back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import ssl
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from cli.check_rows import FAIL, OK, WARN, Row
from config.settings import Settings
from config.startup_checks import (
    PLACEHOLDER_LINK_SECRET,
    certificate_file_problems,
    is_loopback,
    production_reasons,
    unsafe_settings,
    validation_problems,
)


def check_settings() -> tuple[Settings | None, list[Row]]:
    """Settings valid and secrets strong; every bad one on its own row."""
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = validation_problems(exc.errors()) + certificate_file_problems()
        return None, [Row(FAIL, "settings", problem) for problem in problems]
    except Exception as exc:  # pydantic-settings' SettingsError: a value it cannot even parse
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        return None, [Row(FAIL, "settings", f"{exc}{cause}")]
    rows = [Row(FAIL, "settings", problem) for problem in unsafe_settings(settings)]
    if not rows:
        secret = settings.web_form.link_secret.get_secret_value()
        reasons = production_reasons(settings)
        rows.append(
            Row(OK, "settings", f"valid for production ({', '.join(reasons)}); link secret "
                f"{len(secret.encode())} bytes")
            if reasons
            else Row(OK, "settings", "valid for the demo (outbox, SQLite, a loopback address)"
                     + ("; the placeholder link secret is refused anywhere else"
                        if secret == PLACEHOLDER_LINK_SECRET else ""))
        )  # fmt: skip
    return settings, rows


def check_database(settings: Settings) -> list[Row]:
    """Reachable and migrated to the code's head, naming R42_DATABASE__URL."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from cli.errors import database_unreachable
    from models.database import alembic_config

    url = settings.database.url
    engine = create_engine(url, connect_args={"connect_timeout": 5} if "postgresql" in url else {})
    file = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not Path(file).exists():  # connecting would create it
        return [
            Row(
                FAIL,
                "database",
                f"R42_DATABASE__URL={url}: no database file yet: run `r42 load-registry` "
                "(it creates and migrates it)",
            )
        ]
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        return [Row(FAIL, "database", database_unreachable(exc, url))]  # type: ignore[arg-type]
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    shown = engine.url.render_as_string(hide_password=True)
    if current != head:
        return [
            Row(
                FAIL,
                "database",
                f"{shown} is at schema {current or 'none'}, the code needs {head}: "
                "run `r42 load-registry` (it migrates)",
            )
        ]
    return [Row(OK, "database", f"{shown} reachable, schema at {head}")]


def check_smtp(settings: Settings) -> list[Row]:
    """The relay: connect, EHLO, STARTTLS/TLS with verification, AUTH, QUIT; nothing sent."""
    mail = settings.mail
    if mail.transport == "outbox":
        folder = Path(mail.outbox_dir).resolve()
        return [Row(OK, "smtp", f"R42_MAIL__TRANSPORT=outbox: messages are written to {folder}")]
    from cli.smtp_probe import probe

    return [probe(mail)]


def check_inbox(settings: Settings) -> list[Row]:
    """The replies mailbox: TLS with verification, login, its folder; nothing read or moved."""
    inbox = settings.inbox
    if not inbox.enabled:
        return [Row(OK, "inbox", "no mailbox (R42_INBOX__HOST): the emails say not to reply")]
    from mail.inbox import Inbox, InboxUnavailable

    try:
        with Inbox(inbox, settings.mail, create_folders=False) as mailbox:
            waiting = len(mailbox.uids())
    except InboxUnavailable as exc:
        return [Row(FAIL, "inbox", str(exc))]
    return [
        Row(
            OK,
            "inbox",
            f"{inbox.host}:{inbox.port} ({inbox.security}) logged in, {waiting} message(s) "
            f"waiting in {inbox.folder}",
        )
    ]


def check_web(settings: Settings) -> list[Row]:
    """The public base URL answers, and is https outside loopback."""
    import httpx

    base = settings.web_form.public_base_url
    loopback = is_loopback(base)
    rows = []
    if not loopback and not base.startswith("https://"):
        rows.append(
            Row(
                FAIL,
                "web",
                f"R42_WEB_FORM__PUBLIC_BASE_URL={base}: links would travel in clear; serve the "
                "form behind a TLS reverse proxy and give its https:// address",
            )
        )
    try:
        # verification as OpenSSL does it: httpx alone trips over a bad SSL_CERT_FILE
        response = httpx.get(base + "/health", timeout=5, verify=ssl.create_default_context())
    except httpx.HTTPError as exc:
        status = WARN if loopback else FAIL
        hint = "start `r42 portal`" if loopback else "check the proxy and `r42 portal`"
        rows.append(
            Row(status, "web", f"R42_WEB_FORM__PUBLIC_BASE_URL={base} unreachable ({exc}): {hint}")
        )
        return rows
    rows.append(Row(OK, "web", f"{base} answers (HTTP {response.status_code})"))
    return rows


def check_outbox(settings: Settings) -> list[Row]:
    """No message stuck in sending, none failed or unknown without a decision."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from models.database import make_engine
    from models.orm import DeliveryStatus, OutgoingMessage

    lease = dt.timedelta(seconds=settings.mail.claim_lease_seconds)
    stale = dt.datetime.now(dt.UTC) - lease
    engine = make_engine(settings.database.url)
    with Session(engine) as session:
        counts = dict(
            session.execute(
                select(OutgoingMessage.status, func.count()).group_by(OutgoingMessage.status)
            ).all()
        )
        stuck = session.scalar(
            select(func.count()).where(
                OutgoingMessage.status == DeliveryStatus.SENDING,
                OutgoingMessage.claimed_at < stale,
            )
        )
    engine.dispose()
    rows = []
    if stuck:
        rows.append(
            Row(
                FAIL,
                "outbox",
                f"{stuck} messages claimed for sending more than {lease} ago (a run died): the "
                "next delivery run marks them unknown; see `r42 deliveries --year ...`",
            )
        )
    open_ = [DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN, DeliveryStatus.PARTIAL]
    settled = sum(counts.get(status, 0) for status in open_)
    if settled:
        rows.append(
            Row(
                WARN,
                "outbox",
                f"{settled} messages failed, partly failed or unknown: `r42 deliveries --year "
                "...` lists them, `r42 release` sends one again",
            )
        )
    waiting = counts.get(DeliveryStatus.PENDING, 0)
    if not rows:
        rows.append(Row(OK, "outbox", f"nothing stuck ({waiting} waiting to be sent)"))
    return rows


def environment_rows() -> list[Row]:
    """SSL_CERT_FILE / SSL_CERT_DIR name real files (they are in unsafe_settings too)."""
    rows = []
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        value = os.environ.get(name)
        if value and Path(value).exists():
            try:
                ssl.create_default_context().load_verify_locations(
                    cafile=value if name == "SSL_CERT_FILE" else None,
                    capath=value if name == "SSL_CERT_DIR" else None,
                )
            except (ssl.SSLError, OSError) as exc:
                rows.append(Row(FAIL, "settings", f"{name}={value}: not a PEM bundle ({exc})"))
    return rows


def _guarded(name: str, check: Callable[[], list[Row]]) -> list[Row]:
    """A check that breaks is a FAIL row saying why, never a traceback that hides the others."""
    try:
        return check()
    except Exception as exc:
        return [Row(FAIL, name, f"could not be checked: {type(exc).__name__}: {exc}")]


def _prefect_rows() -> list[Row]:
    from cli.check_prefect import check_prefect

    return asyncio.run(check_prefect())


def run_checks(*, prefect: bool = True) -> list[Row]:
    """Every check, in the order ops fix things: settings first, the rest when they load."""
    settings, rows = check_settings()
    rows += environment_rows()
    if settings is None:
        rows.append(Row(WARN, "check", "other checks skipped until the settings load"))
        return rows
    database = _guarded("database", lambda: check_database(settings))
    rows += database
    reachable = database[0].status == OK
    if reachable:
        from cli.check_registry import check_registry

        rows += _guarded("registry", lambda: check_registry(settings))
    else:
        rows.append(Row(WARN, "check", "registry and outbox checks skipped: no database"))
    rows += _guarded("smtp", lambda: check_smtp(settings))
    rows += _guarded("inbox", lambda: check_inbox(settings))
    rows += _guarded("web", lambda: check_web(settings))
    if prefect:
        rows += _guarded("prefect", _prefect_rows)
    if reachable:
        rows += _guarded("outbox", lambda: check_outbox(settings))
    return rows
