"""Real servers for the tests: a throwaway PostgreSQL cluster and an in-process SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import glob
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """initdb + pg_ctl as the `postgres` user (initdb refuses root), on a free local port."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        self.bin = (
            os.path.dirname(found[-1]) if found else os.path.dirname(shutil.which("initdb") or "")
        )
        if not self.bin:
            raise RuntimeError("PostgreSQL binaries not found: `make test` installs them")
        self.dir = tempfile.mkdtemp(prefix="r42-pg-")
        self.port = free_port()
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [os.path.join(self.bin, args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        if self._as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        data = os.path.join(self.dir, "data")
        self._run(
            "initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"
        )
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", data, "-o", options, "-l", os.path.join(self.dir, "log"), "-w", "start"
        )
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", os.path.join(self.dir, "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)


@dataclass
class SmtpHandler:
    """Stores what it receives; faults are injected by setting the attributes below."""

    received: list[Received] = field(default_factory=list)
    refuse_recipients: dict[str, str] = field(default_factory=dict)  # address -> "550 ..."
    data_reply: str | None = None  # e.g. "451 try later" instead of accepting
    refuse_data_for: dict[str, str] = field(default_factory=dict)  # To address -> "554 ..."
    drop_after: int | None = None  # accept this many more, then drop the connection on the next
    data_delay: float = 0.0  # seconds to wait before answering DATA (a slow server)
    slow_only: set[str] | None = None  # recipients the delay applies to (default: all)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse_recipients:
            return self.refuse_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_reply:
            return self.data_reply
        for address in envelope.rcpt_tos:
            if address in self.refuse_data_for:
                return self.refuse_data_for[address]
        if self.data_delay and (self.slow_only is None or set(envelope.rcpt_tos) & self.slow_only):
            await asyncio.sleep(self.data_delay)
        raw = envelope.original_content or envelope.content
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw))
        if self.drop_after is not None:
            if self.drop_after == 0:
                server.transport.close()  # the data arrived, the reply never leaves
                self.drop_after = None
                return "250 never seen"
            self.drop_after -= 1
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on a local port; ``controller_options`` go to its Controller (e.g. AUTH)."""

    def __init__(self, port: int | None = None, **controller_options: object) -> None:
        self.handler = SmtpHandler()
        self.port = port or free_port()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **controller_options
        )

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received


def make_tls_files(folder: Path) -> tuple[Path, Path, ssl.SSLContext]:
    """A private CA's certificate (what ops give as R42_MAIL__SMTP_CA_FILE), the key of the
    relay certificate it issued for 127.0.0.1, and a server context presenting that one."""
    from documents.certificates import make_certificate

    ca = make_certificate("relay.test CA thử nghiệm", organisation="Kiểm thử", role="ca")
    relay = make_certificate("relay.test", issuer=ca, role="server", hosts=("127.0.0.1",))
    ca_path, cert_path, key_path = (folder / f"relay{n}" for n in ("-ca.pem", ".pem", ".key"))
    ca_path.write_bytes(ca.pem())
    cert_path.write_bytes(relay.pem())
    key_path.write_bytes(
        relay.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return ca_path, key_path, context


def require_programs(*names: str) -> None:
    """Fail, not skip, when a program the suite drives is missing: `make test` installs it
    (test-system-packages), so a missing one is a broken set-up that must be seen."""
    missing = [name for name in names if not (shutil.which(name) or os.path.exists(name))]
    assert not missing, f"{', '.join(missing)} not installed: run `make test-system-packages`"


def run_r42_in_clean_folder(
    folder: Path, *args: str, module: str = "cli.main"
) -> subprocess.CompletedProcess[str]:
    """`r42 <args>` (or ``python -m <module> <args>``) as ops run it on a fresh machine: in
    ``folder``, with its own Prefect home and none of the caller's PREFECT_/R42_ settings; fails
    with the end of its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "R42_"))}
    env.update(
        PREFECT_HOME=str(folder / ".prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
    )
    run = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run
