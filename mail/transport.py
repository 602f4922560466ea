"""How stored messages leave: one interface, a local outbox folder and an SMTP implementation."""

from __future__ import annotations

import asyncio
import os
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiosmtplib

from config.settings import MailSettings
from mail.smtp_commands import mail_from, rcpt_to, send_data
from models.orm import DeliveryStatus


@dataclass(frozen=True)
class Envelope:
    """What a transport needs to send one stored message."""

    message_id: str
    name: str  # readable and unique, e.g. "2026-request-so-y-te"; names outbox files
    sender: str
    recipients: list[str]
    raw: bytes


@dataclass(frozen=True)
class DeliveryResult:
    message_id: str
    status: DeliveryStatus  # PENDING here means "temporary failure, try again later"
    reply: str


class Transport(Protocol):
    """Delivers envelopes and says, for each, what became of it."""

    async def deliver(self, envelopes: Sequence[Envelope]) -> list[DeliveryResult]: ...

    async def aclose(self) -> None: ...


class OutboxFolderTransport:
    """Writes each message to ``<folder>/<name>.eml``; an existing file means already sent."""

    def __init__(self, folder: Path):
        self.folder = folder

    async def deliver(self, envelopes: Sequence[Envelope]) -> list[DeliveryResult]:
        self.folder.mkdir(parents=True, exist_ok=True)
        return [self._write(envelope) for envelope in envelopes]

    async def aclose(self) -> None:
        return None

    def _write(self, envelope: Envelope) -> DeliveryResult:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", envelope.name)
        path = self.folder / f"{name}.eml"
        temporary = path.with_suffix(".eml.tmp")
        temporary.write_bytes(envelope.raw)
        try:
            os.link(temporary, path)  # atomic, and refuses to overwrite
        except FileExistsError:
            reply = f"already in the outbox: {path}"
        else:
            reply = f"written to {path}"
        finally:
            temporary.unlink(missing_ok=True)
        return DeliveryResult(envelope.message_id, DeliveryStatus.SENT, reply)


def _classify(code: int, message: str) -> tuple[DeliveryStatus, str]:
    status = DeliveryStatus.PENDING if 400 <= code < 500 else DeliveryStatus.FAILED
    return status, f"{code} {message}".strip()


class SmtpTransport:
    """Sends over a bounded set of reused aiosmtplib connections sharing one TLS context."""

    def __init__(self, settings: MailSettings):
        self.settings = settings
        self.tls_context = (
            ssl.create_default_context() if settings.smtp_security != "none" else None
        )
        self._idle: list[aiosmtplib.SMTP] = []  # connections kept between batches of a run

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            timeout=s.smtp_timeout,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            tls_context=self.tls_context,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
        )

    async def deliver(self, envelopes: Sequence[Envelope]) -> list[DeliveryResult]:
        queue: asyncio.Queue[Envelope] = asyncio.Queue()
        for envelope in envelopes:
            queue.put_nowait(envelope)
        results: dict[str, DeliveryResult] = {}
        workers = min(self.settings.smtp_connections, max(1, len(envelopes)))
        await asyncio.gather(*(self._worker(queue, results) for _ in range(workers)))
        return [results[e.message_id] for e in envelopes]

    async def _worker(
        self, queue: asyncio.Queue[Envelope], results: dict[str, DeliveryResult]
    ) -> None:
        client = self._idle.pop() if self._idle else None
        while not queue.empty():
            envelope = queue.get_nowait()
            if client is None or not client.is_connected:
                client = self._client()
                try:
                    await client.connect()
                except (aiosmtplib.SMTPException, OSError) as exc:
                    results[envelope.message_id] = self._connect_failure(envelope, exc)
                    client = None
                    continue
            results[envelope.message_id] = await self._send(client, envelope)
        if client is not None and client.is_connected:
            self._idle.append(client)  # reused by the next batch of this delivery run

    async def aclose(self) -> None:
        """Say goodbye on every connection kept between batches."""
        while self._idle:
            client = self._idle.pop()
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()

    @staticmethod
    def _connect_failure(envelope: Envelope, exc: Exception) -> DeliveryResult:
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            status, reply = _classify(exc.code, exc.message)
        else:
            status, reply = DeliveryStatus.PENDING, f"connection failed: {exc}"
        return DeliveryResult(envelope.message_id, status, reply)

    async def _send(self, client: aiosmtplib.SMTP, envelope: Envelope) -> DeliveryResult:
        mid = envelope.message_id
        try:
            await mail_from(client, envelope.sender or self.settings.sender_address)
            refused: dict[str, str] = {}
            accepted = []
            for recipient in envelope.recipients:
                try:
                    await rcpt_to(client, recipient)
                    accepted.append(recipient)
                except aiosmtplib.SMTPRecipientRefused as exc:
                    refused[recipient] = f"{exc.code} {exc.message}"
            if not accepted:
                await client.rset()
                temporary = any(r.startswith("4") for r in refused.values())
                status = DeliveryStatus.PENDING if temporary else DeliveryStatus.FAILED
                return DeliveryResult(
                    mid, status, "; ".join(f"{r}: {m}" for r, m in refused.items())
                )
        except aiosmtplib.SMTPResponseException as exc:
            status, reply = _classify(exc.code, exc.message)
            return DeliveryResult(mid, status, reply)
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            return DeliveryResult(mid, DeliveryStatus.PENDING, f"before data: {exc}")
        try:
            response = await send_data(client, envelope.raw)
        except aiosmtplib.SMTPResponseException as exc:
            status, reply = _classify(exc.code, exc.message)
            return DeliveryResult(mid, status, reply)
        except (aiosmtplib.SMTPException, OSError) as exc:
            # The data may have reached the server: resending blindly could duplicate it.
            client.close()
            return DeliveryResult(mid, DeliveryStatus.UNKNOWN, f"after data: {exc}")
        reply = f"{response.code} {response.message}"
        if refused:
            reply += " (refused: " + "; ".join(f"{r}: {m}" for r, m in refused.items()) + ")"
        return DeliveryResult(mid, DeliveryStatus.SENT, reply)


def transport_from_settings(settings: MailSettings) -> Transport:
    if settings.transport == "smtp" and settings.smtp_processes > 1:
        from mail.workers import MultiProcessSmtpTransport  # imports this module

        return MultiProcessSmtpTransport(settings)
    if settings.transport == "smtp":
        return SmtpTransport(settings)
    return OutboxFolderTransport(settings.outbox_dir)
