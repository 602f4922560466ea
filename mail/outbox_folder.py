"""The transport of a machine without a relay (``make demo``, a laptop): each message a file."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from mail.transport import DeliveryResult, Envelope
from models.orm import DeliveryStatus


class OutboxFolderTransport:
    """Writes each message to ``<folder>/<name>.eml``; an existing file means already sent."""

    refusal: str | None = None

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
