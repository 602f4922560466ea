"""Local SMTP servers that accept and discard everything, each run in its own process.

Kept apart from the benchmark so a ``spawn`` child imports little, and so the server does not
compete with the client for one event loop (on 2 cores each gets one).

Three kinds:
- ``postfix``: Postfix's ``smtp-sink`` (Debian package postfix), a C server: what a real MTA
  costs on the same cores. It counts messages (``-c``) but cannot check their octets.
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
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
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


def postfix_available() -> bool:
    return bool(shutil.which("smtp-sink") or os.path.exists("/usr/sbin/smtp-sink"))


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postfix_sink_command(port: int, *options: str) -> list[str]:
    """``smtp-sink`` on 127.0.0.1:port with ``options``; as root it must drop to ``nobody``."""
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    return [binary, "-u", "nobody", "-a", *options, f"127.0.0.1:{port}", "256"]


def wait_for_port(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class PostfixSink:
    """``smtp-sink -c``: its running counters (``mesg=N``) say how many messages arrived."""

    kind = "postfix"

    def __init__(self) -> None:
        self.port = free_port()
        self._log = tempfile.NamedTemporaryFile(prefix="smtp-sink-", suffix=".log")
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> PostfixSink:
        command = postfix_sink_command(self.port, "-c")
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        wait_for_port(self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._process is not None
        self._process.terminate()
        self._process.wait(10)
        self._log.close()

    @property
    def messages(self) -> int:
        with open(self._log.name, "rb") as log:
            counts = re.findall(rb"mesg=(\d+)", log.read())
        return int(counts[-1]) if counts else 0

    @property
    def octets(self) -> int | None:
        return None  # not counted by smtp-sink

    def cpu_seconds(self) -> float:
        assert self._process is not None
        return process_cpu_seconds(self._process.pid)


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

    def cpu_seconds(self) -> float:
        assert self._process.pid is not None
        return process_cpu_seconds(self._process.pid)
