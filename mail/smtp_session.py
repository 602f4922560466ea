"""One relay connection after log-in: SMTP transactions with pipelining, reset after failure.

aiosmtplib opens the connection (greeting, EHLO, STARTTLS, AUTH: ``mail.relay``); the
transactions then run here, on the same socket, because they need what aiosmtplib's
per-command API cannot give:

- every recipient's own reply (a 450 for the Cc while the To is accepted);
- MAIL, RCPT and DATA in one write where the relay offers PIPELINING (RFC 2920): one round
  trip for the envelope instead of two or more;
- the moment the data leaves: a failure before it is a retry, after it the outcome is unknown;
- RSET after any refused command, so one message's refusal never poisons the next message
  on the connection ("503 nested MAIL command"); a connection whose RSET fails is closed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mail.wire import to_wire

_ACCEPTED_RCPT = (250, 251)


class ConnectionLost(Exception):
    """The relay closed the connection or did not answer in time."""


@dataclass(frozen=True)
class Reply:
    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


@dataclass(frozen=True)
class TransactionOutcome:
    """What one transaction did for each recipient it named.

    ``recipients`` share ``reply``: the reply to the data, or to the command that ended the
    transaction (MAIL, DATA); ``refused`` ones were refused at RCPT and carry their own reply.
    ``data_sent`` says whether the message's data may have reached the relay. ``error`` is set
    when the connection was lost: before the data every recipient is to be tried again,
    after it the outcome for ``recipients`` is unknown.
    """

    recipients: tuple[str, ...]
    refused: tuple[tuple[str, Reply], ...]
    reply: Reply | None
    data_sent: bool
    error: str | None = None


class SmtpSession(asyncio.Protocol):
    """Reads replies (several may arrive in one segment when pipelining) in order."""

    def __init__(self, transport: asyncio.Transport, *, pipelining: bool, timeout: float):
        self.transport = transport
        self.pipelining = pipelining
        self.timeout = timeout
        self._buffer = bytearray()
        self._replies: deque[Reply] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._lost: str | None = None

    # -- asyncio.Protocol -------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        start = 0
        while True:
            end = self._buffer.find(b"\n", start)
            if end < 0:
                break
            line = bytes(self._buffer[start:end]).rstrip(b"\r")
            start = end + 1
            if line[3:4] == b"-":
                continue  # a continuation line of a multi-line reply
            try:
                code = int(line[:3])
            except ValueError:
                code = -1
            self._replies.append(Reply(code, line[4:].decode("utf-8", "replace")))
            del self._buffer[:start]
            start = 0
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = f"connection lost: {exc}" if exc else "the relay closed the connection"
        self._wake()

    def eof_received(self) -> bool:
        return False  # close our side too

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # -- replies and commands ---------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._lost is not None or self.transport.is_closing()

    def close(self) -> None:
        if self._lost is None:
            self._lost = "closed after an error"
        self.transport.close()

    async def reply(self) -> Reply:
        while not self._replies:
            if self._lost is not None:
                raise ConnectionLost(self._lost)
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(self.timeout, self._time_out, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        return self._replies.popleft()

    def _time_out(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(ConnectionLost(f"no reply within {self.timeout:g} s"))

    def write(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionLost(self._lost or "the connection is closed")
        self.transport.write(data)

    async def command(self, line: bytes) -> Reply:
        self.write(line + b"\r\n")
        return await self.reply()

    async def reset(self) -> None:
        """RSET after a refused or aborted transaction; close the connection if it fails."""
        try:
            if (await self.command(b"RSET")).code == 250:
                return
        except ConnectionLost:
            pass
        self.close()

    async def quit(self) -> None:
        try:
            if not self.closed:
                await asyncio.wait_for(self.command(b"QUIT"), min(self.timeout, 5))
        except (ConnectionLost, TimeoutError):
            pass
        finally:
            self.transport.close()

    # -- one message ------------------------------------------------------------------------

    async def transaction(
        self,
        sender: str,
        recipients: list[str],
        raw: bytes,
        before_data: Callable[[], Awaitable[None]] | None = None,
        *,
        wire_form: bool = False,
    ) -> TransactionOutcome:
        """MAIL, RCPT for each recipient, DATA; the message's data once ``before_data``
        (which records that the data is leaving) has returned. ``wire_form``: ``raw`` is
        known to follow DATA as it is (the outbox stores nothing else), so its framing is
        not checked again (about 35 us for 60 KB)."""
        accepted: list[str] = []
        refused: list[tuple[str, Reply]] = []
        data_sent = False
        try:
            mail = b"MAIL FROM:<" + sender.encode("ascii") + b">\r\n"
            rcpts = [b"RCPT TO:<" + r.encode("ascii") + b">\r\n" for r in recipients]
            if self.pipelining:
                self.write(b"".join([mail, *rcpts, b"DATA\r\n"]))
                replies = [await self.reply() for _ in range(len(recipients) + 2)]
                mail_reply, data_reply = replies[0], replies[-1]
                rcpt_replies = replies[1:-1]
            else:
                mail_reply, rcpt_replies, data_reply = await self._one_by_one(mail, rcpts)
            if mail_reply.code != 250:
                return await self._aborted(recipients, mail_reply, data_reply)
            for recipient, reply in zip(recipients, rcpt_replies, strict=True):
                if reply.code in _ACCEPTED_RCPT:
                    accepted.append(recipient)
                else:
                    refused.append((recipient, reply))
            if not accepted or data_reply is None or data_reply.code != 354:
                await self._end_data(data_reply)
                await self.reset()
                return TransactionOutcome(tuple(accepted), tuple(refused), data_reply, False)
            if before_data is not None:
                await before_data()
            data_sent = True
            self.transport.writelines([raw if wire_form else to_wire(raw), b".\r\n"])
            final = await self.reply()
        except (ConnectionLost, OSError) as exc:
            self.close()
            return TransactionOutcome(
                tuple(accepted) if data_sent else tuple(recipients),
                tuple(refused) if data_sent else (),
                None,
                data_sent,
                str(exc),
            )
        if final.code != 250:
            await self.reset()
        return TransactionOutcome(tuple(accepted), tuple(refused), final, True)

    async def _one_by_one(
        self, mail: bytes, rcpts: list[bytes]
    ) -> tuple[Reply, list[Reply], Reply | None]:
        """Without PIPELINING: each command waits for its reply; stop at the first refusal
        that ends the transaction (MAIL, or every RCPT)."""
        mail_reply = await self.command(mail[:-2])
        if mail_reply.code != 250:
            return mail_reply, [mail_reply] * len(rcpts), None
        rcpt_replies = [await self.command(line[:-2]) for line in rcpts]
        if not any(r.code in _ACCEPTED_RCPT for r in rcpt_replies):
            return mail_reply, rcpt_replies, None
        return mail_reply, rcpt_replies, await self.command(b"DATA")

    async def _aborted(
        self, recipients: list[str], mail_reply: Reply, data_reply: Reply | None
    ) -> TransactionOutcome:
        """MAIL was refused: every recipient shares its reply."""
        await self._end_data(data_reply)
        await self.reset()
        return TransactionOutcome(tuple(recipients), (), mail_reply, False)

    async def _end_data(self, data_reply: Reply | None) -> None:
        """A relay that said 354 although no recipient was accepted waits for data: end it
        with an empty message (it has nobody to deliver it to)."""
        if data_reply is not None and data_reply.code == 354:
            await self.command(b".")
