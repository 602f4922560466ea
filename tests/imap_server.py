"""A real IMAP server for the tests: Debian's Dovecot in a throwaway folder with its own
configuration, on free ports, with a certificate for 127.0.0.1 issued by a test CA (no system
service; the mail is owned by the unprivileged ``dovenull``)."""

from __future__ import annotations

import imaplib
import itertools
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from tests.servers import free_port, make_tls_files, require_programs

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "hopthu", "mat-khau-thu"
MAILBOXES = 200

CONFIG = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{dir}/imap.pem
ssl_key = <{dir}/imap.key
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
first_valid_uid = 1
first_valid_gid = 1
default_login_user = dovenull
default_internal_user = dovenull
default_internal_group = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid=dovenull gid=dovenull home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class ImapServer:
    """``with ImapServer() as imap:`` a running Dovecot; ``imap.ca`` is the CA to trust."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="r42-dovecot-"))
        self.port, self.tls_port = free_port(), free_port()
        self.user, self._users = USER, itertools.count(1)

    def __enter__(self) -> ImapServer:
        require_programs(DOVECOT)
        os.chmod(self.dir, 0o755)
        self.ca, key, _ = make_tls_files(self.dir)
        shutil.copy(self.dir / "relay.pem", self.dir / "imap.pem")
        shutil.copy(key, self.dir / "imap.key")
        (self.dir / "users").write_text(  # one mailbox per test of a module: new_user()
            "".join(f"{USER}{n or ''}:{{PLAIN}}{PASSWORD}::::::\n" for n in range(MAILBOXES))
        )
        (self.dir / "mail").mkdir()
        shutil.chown(self.dir / "mail", "dovenull", "dovenull")
        self.config = self.dir / "dovecot.conf"
        self.config.write_text(
            CONFIG.format(dir=self.dir, imap=self.port, imaps=self.tls_port), encoding="utf-8"
        )
        subprocess.run([DOVECOT, "-c", str(self.config)], check=True, timeout=30)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.connect().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline:
                    log = (self.dir / "dovecot.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"dovecot did not start:\n{log}") from None
                time.sleep(0.1)
        return self

    def __exit__(self, *exc: object) -> None:
        pid_file = self.dir / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        shutil.rmtree(self.dir, ignore_errors=True)

    def new_user(self) -> str:
        """A fresh, empty mailbox for the next test (of the users made at the start)."""
        self.user = f"{USER}{next(self._users)}"
        return self.user

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca)

    def connect(self) -> imaplib.IMAP4_SSL:
        """A logged-in client of the test user (implicit TLS)."""
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.tls_port, ssl_context=self.context())
        imap.login(self.user, PASSWORD)
        return imap

    def deliver(self, *messages: bytes, folder: str = "INBOX") -> None:
        """Put messages in a folder as the mail server would (APPEND)."""
        imap = self.connect()
        try:
            for raw in messages:
                typ, data = imap.append(folder, None, None, raw)
                assert typ == "OK", data
        finally:
            imap.logout()

    def count(self, folder: str) -> int:
        imap = self.connect()
        try:
            typ, data = imap.select(f'"{folder}"', readonly=True)
            return int(data[0]) if typ == "OK" else 0
        finally:
            imap.logout()

    def settings_env(self, security: str = "tls") -> dict[str, str]:
        """R42_* variables of a mailbox on this server (and its CA as the relay's CA)."""
        return {
            "R42_INBOX__HOST": "127.0.0.1",
            "R42_INBOX__PORT": str(self.tls_port if security == "tls" else self.port),
            "R42_INBOX__SECURITY": security,
            "R42_INBOX__USER": self.user,
            "R42_INBOX__PASSWORD": PASSWORD,
            "R42_INBOX__TIMEOUT": "10",
            "R42_MAIL__SMTP_CA_FILE": str(self.ca),
        }
