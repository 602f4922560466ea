"""Local SMTP servers that accept and discard everything, each run in its own process.

Kept apart from the benchmark so a ``spawn`` child imports little, and so the server does not
compete with the client for one event loop (on 2 cores each gets one).

Two kinds:
- ``aiosmtpd``: the server the tests use. It reads DATA a line at a time in Python, so with
  ~45 KB messages (some 600 base64 lines) it tops out at a few hundred messages a second and
  becomes the bottleneck, hiding differences between clients.
- ``minimal``: a bare asyncio protocol that answers the few commands a client sends and finds
  the end of DATA with one ``bytes.find``; it costs a few tens of microseconds per message, much
  as a C MTA (Postfix) would, so what is measured is the client. With ``rtt_ms`` it holds every
  reply (the greeting included) that long, as a server across a network would seem to.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.synchronize
import socket
from ctypes import c_longlong


class _Discard:
    """aiosmtpd handler: counts and drops."""

    def __init__(self, messages: c_longlong, octets: c_longlong):
        self.messages = messages
        self.octets = octets

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.octets.value += len(envelope.original_content or b"")  # the only writer: no lock
        self.messages.value += 1
        return "250 2.0.0 Accepted and discarded"


class _MinimalSmtp(asyncio.Protocol):
    """Just enough ESMTP for smtplib and aiosmtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, QUIT."""

    END = b"\r\n.\r\n"

    def __init__(self, messages: c_longlong, octets: c_longlong, delay: float):
        self.messages = messages
        self.octets = octets
        self.delay = delay
        self.buffer = bytearray()
        self.in_data = False
        self.scanned = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._reply(b"220 sink.localhost ESMTP discard\r\n")

    def _reply(self, data: bytes, close: bool = False) -> None:
        if self.delay:
            asyncio.get_running_loop().call_later(self.delay, self._send, data, close)
        else:
            self._send(data, close)

    def _send(self, data: bytes, close: bool) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)
            if close:
                self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer:
            if self.in_data:
                # The message is the buffer up to CRLF.CRLF; an empty one is just ".\r\n".
                if self.buffer.startswith(b".\r\n"):
                    end, size = 0, 3
                else:
                    found = self.buffer.find(self.END, max(0, self.scanned - 4))
                    if found < 0:
                        self.scanned = len(self.buffer)
                        return
                    end, size = found + 2, found + 5
                self.octets.value += end
                self.messages.value += 1
                del self.buffer[:size]
                self.in_data, self.scanned = False, 0
                self._reply(b"250 2.0.0 Accepted and discarded\r\n")
                continue
            newline = self.buffer.find(b"\r\n")
            if newline < 0:
                return
            line = bytes(self.buffer[:newline])
            del self.buffer[: newline + 2]
            self._command(line.split(b" ", 1)[0].upper())

    def _command(self, verb: bytes) -> None:
        write = self._reply
        if verb == b"EHLO":
            write(b"250-sink.localhost\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n")
        elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
            write(b"250 2.0.0 OK\r\n")
        elif verb == b"DATA":
            self.in_data = True
            write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        elif verb == b"QUIT":
            write(b"221 2.0.0 Bye\r\n", close=True)
        else:
            write(b"502 5.5.2 Command not recognised\r\n")


async def _serve(kind: str, port: int, rtt_ms: float, messages, octets, ready) -> None:
    loop = asyncio.get_running_loop()
    if kind == "aiosmtpd":
        from aiosmtpd.smtp import SMTP

        handler = _Discard(messages, octets)

        def factory() -> asyncio.BaseProtocol:
            return SMTP(handler, hostname="sink.localhost", data_size_limit=None)
    else:

        def factory() -> asyncio.BaseProtocol:
            return _MinimalSmtp(messages, octets, rtt_ms / 1000)

    server = await loop.create_server(factory, host="127.0.0.1", port=port, backlog=512)
    ready.set()
    async with server:
        await server.serve_forever()


def _run(kind: str, port: int, rtt_ms: float, messages, octets, ready) -> None:
    asyncio.run(_serve(kind, port, rtt_ms, messages, octets, ready))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """``with SmtpSink("aiosmtpd") as sink:`` a discarding server on ``127.0.0.1:sink.port``."""

    def __init__(self, kind: str = "aiosmtpd", rtt_ms: float = 0) -> None:
        if kind not in ("aiosmtpd", "minimal") or (rtt_ms and kind != "minimal"):
            raise ValueError(f"unknown sink {kind!r} (or a delay on other than 'minimal')")
        context = multiprocessing.get_context("spawn")
        self.kind = kind
        self.port = free_port()
        self._messages = context.Value("q", 0, lock=False)
        self._octets = context.Value("q", 0, lock=False)
        self._ready: multiprocessing.synchronize.Event = context.Event()
        self._process = context.Process(
            target=_run,
            args=(kind, self.port, rtt_ms, self._messages, self._octets, self._ready),
            name=f"smtp-sink-{kind}",
            daemon=True,
        )

    def __enter__(self) -> SmtpSink:
        self._process.start()
        if not self._ready.wait(30):
            self._process.terminate()
            raise RuntimeError("the SMTP sink did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.join(10)

    @property
    def messages(self) -> int:
        return self._messages.value

    @property
    def octets(self) -> int:
        return self._octets.value
