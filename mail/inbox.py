"""The replies mailbox over IMAP (stdlib imaplib): list what waits in the folder by UID,
fetch one message without marking it read, move it to another folder."""

from __future__ import annotations

import imaplib
import re
import ssl
from dataclasses import dataclass

from config.mail_settings import InboxSettings, MailSettings


class InboxUnavailable(Exception):
    """The mailbox could not be reached or refused us: the run stops, nothing is lost."""


@dataclass(frozen=True)
class Fetched:
    uid: int
    raw: bytes


def tls_context(mail: MailSettings) -> ssl.SSLContext:
    """The relay's CA (R42_MAIL__SMTP_CA_FILE) when set, else the system's CAs."""
    return ssl.create_default_context(cafile=mail.smtp_ca_file)


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Inbox:
    """One logged-in IMAP connection with the replies folder selected."""

    def __init__(
        self, settings: InboxSettings, mail: MailSettings, *, create_folders: bool = True
    ) -> None:
        self.settings = settings
        self.create_folders = create_folders  # False: only look (r42 check)
        self.mail = mail
        self.imap: imaplib.IMAP4 | None = None
        self.uid_validity = 0
        self.can_move = self.uidplus = False

    def __enter__(self) -> Inbox:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        s = self.settings
        where = f"{s.host}:{s.port}"
        try:
            if s.security == "tls":
                imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    s.host, s.port, ssl_context=tls_context(self.mail), timeout=s.timeout
                )
            else:
                imap = imaplib.IMAP4(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    imap.starttls(ssl_context=tls_context(self.mail))
            self.imap = imap
            if s.user:
                password = s.password.get_secret_value() if s.password else ""
                imap.login(s.user, password)
            typ, data = imap.capability()  # after login: servers offer more than before it
            offered = set((data[0] or b"").decode("ascii", "replace").upper().split())
            self.can_move, self.uidplus = "MOVE" in offered, "UIDPLUS" in offered
            typ, data = imap.select(_quote(s.folder))
            if typ != "OK":
                raise InboxUnavailable(f"{where}: cannot open folder {s.folder!r}: {data!r}")
            typ, data = imap.response("UIDVALIDITY")
            if not data or not data[0]:
                raise InboxUnavailable(f"{where}: folder {s.folder!r} has no UIDVALIDITY")
            self.uid_validity = int(data[0])
            for folder in (s.processed_folder, s.rejected_folder) if self.create_folders else ():
                imap.create(_quote(folder))  # NO when it exists: fine
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise InboxUnavailable(
                f"certificate of {where} not trusted ({exc.verify_message}): set "
                "R42_MAIL__SMTP_CA_FILE to the CA that signed it"
            ) from None
        except imaplib.IMAP4.error as exc:
            self.close()
            raise InboxUnavailable(
                f"{where} refused: {exc} (check R42_INBOX__USER and R42_INBOX__PASSWORD)"
            ) from None
        except (OSError, TimeoutError) as exc:
            self.close()
            raise InboxUnavailable(f"{where} unreachable: {exc or type(exc).__name__}") from None

    def close(self) -> None:
        if self.imap is None:
            return
        try:
            self.imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
        self.imap = None

    def _ok(self, typ: str, data: object, what: str) -> None:
        if typ != "OK":
            raise InboxUnavailable(f"{what} failed: {data!r}")

    def uids(self) -> list[int]:
        """The UIDs waiting in the folder, oldest first."""
        assert self.imap is not None
        typ, data = self.imap.uid("SEARCH", "ALL")
        self._ok(typ, data, "UID SEARCH")
        return sorted(int(n) for n in (data[0] or b"").split())

    def fetch(self, uid: int) -> Fetched | None:
        """The message's bytes (BODY.PEEK: not marked read); None if it has gone."""
        return self._fetch(uid, "BODY.PEEK[]")

    def fetch_header(self, uid: int) -> Fetched | None:
        """Only the message's header (for a message too large to read)."""
        return self._fetch(uid, "BODY.PEEK[HEADER]")

    def _fetch(self, uid: int, item: str) -> Fetched | None:
        assert self.imap is not None
        typ, data = self.imap.uid("FETCH", str(uid), f"({item})")
        self._ok(typ, data, f"UID FETCH {uid} {item}")
        for part in data:
            if isinstance(part, tuple) and len(part) == 2:
                return Fetched(uid, part[1])
        return None

    def size(self, uid: int) -> int:
        """The message's size in bytes as the server counts it (0 if it has gone)."""
        assert self.imap is not None
        typ, data = self.imap.uid("FETCH", str(uid), "(RFC822.SIZE)")
        self._ok(typ, data, f"UID FETCH {uid} RFC822.SIZE")
        for item in data:
            text = item[0] if isinstance(item, tuple) else item
            found = re.search(rb"RFC822\.SIZE (\d+)", text or b"")
            if found:
                return int(found.group(1))
        return 0

    def move(self, uid: int, folder: str) -> None:
        """UID MOVE (RFC 6851), or COPY then delete and expunge where MOVE is not offered."""
        assert self.imap is not None
        if self.can_move:
            typ, data = self.imap.uid("MOVE", str(uid), _quote(folder))
            self._ok(typ, data, f"UID MOVE {uid}")
            return
        typ, data = self.imap.uid("COPY", str(uid), _quote(folder))
        self._ok(typ, data, f"UID COPY {uid}")
        self.imap.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
        if self.uidplus:
            self.imap.uid("EXPUNGE", str(uid))
        else:
            self.imap.expunge()
